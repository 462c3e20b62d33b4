// apply and resume at the command line: --quiet for cron, and when things are wrong (an
// invalid configuration, a corrupt state file, a state directory that cannot be used, usage
// errors). Each ends in a message that names the place and the problem, never a stack trace.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllChildren, spawnChild } from '../helpers/processes.js';
import { runProcguard, STACK_TRACE } from '../helpers/run-cli.js';

describe('procguard apply and resume at the command line', function () {
  this.timeout(20000);
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-apply-cli-'));
  });
  afterEach(async () => {
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  async function policies(stateDir: string, body = 'policies:\n  - { name: nothing, kind: oom, match: { name: no-such-process-here }, oom_score_adj: 5 }\n'): Promise<string> {
    const file = join(work, 'p.yaml');
    await writeFile(file, `settings:\n  state_dir: ${stateDir}\n${body}`);
    return file;
  }

  it('an invalid configuration: diagnostics, exit 2, no state written', async () => {
    const file = await policies(join(work, 'state'), 'policies:\n  - { name: bad, kind: memory, match: { name: x }, max_rss: lots }\n');
    const run = await runProcguard(['apply', '-c', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /p\.yaml:4:\d+: error: Invalid size "lots"/);
    assert.match(run.stderr, /procguard: the configuration is invalid; nothing was evaluated/);
    await assert.rejects(readdir(join(work, 'state')), /ENOENT/);
  });

  it('a corrupt state file: moved aside with a warning, and the cycle goes on', async () => {
    const state = join(work, 'state');
    await mkdir(state);
    await writeFile(join(state, 'state.json'), '{"version":1,"targets":');
    const run = await runProcguard(['apply', '-c', await policies(state)]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^procguard: warning: the state file .*state\.json is corrupt \(it is not JSON .*\); moved aside to .*state\.json\.corrupt-\d+, starting afresh\n$/);
    assert.match(run.stdout, /No actions\.\n\nno actions, 0 notifications\n$/);
    const files = (await readdir(state)).sort();
    assert.equal(files.length, 2);
    assert.equal(files[0], 'state.json');
    assert.match(files[1] ?? '', /^state\.json\.corrupt-\d+$/);
    assert.deepEqual(JSON.parse(await readFile(join(state, 'state.json'), 'utf8')), { version: 1, start_times: 'ticks', targets: {}, paused: [] });
  });

  it('--quiet prints nothing when there is nothing to do, and the table when something was done', async () => {
    const state = join(work, 'state');
    const child = await spawnChild('sleep', ['4251']);
    const file = await policies(state, 'policies:\n  - { name: sleeper-oom, kind: oom, match: { cmdline: "^sleep 4251" }, oom_score_adj: 77 }\n');
    const first = await runProcguard(['apply', '-q', '-c', file], { env: { PATH: process.env.PATH ?? '', TZ: 'UTC' } });
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.split('\n');
    assert.deepEqual(
      lines.slice(2, 4).map((l) => l.replace(/ +/g, ' ')),
      ['ACTION TARGET POLICY STATUS REASON', `set_oom_score_adj 77 sleep (pid ${child.pid}) sleeper-oom done oom_score_adj 0, wants 77 → oom_score_adj of pid ${child.pid}: 0 → 77`],
    );
    assert.equal(lines.at(-2), '1 action done, 0 notifications');
    const second = await runProcguard(['apply', '--quiet', '-c', file]);
    assert.deepEqual([second.code, second.stdout, second.stderr], [0, '', '']);
  });

  it('a state directory that is a file: exit 3 naming it, nothing done', async () => {
    const notADir = join(work, 'state');
    await writeFile(notADir, 'oops');
    const run = await runProcguard(['apply', '-c', await policies(notADir)]);
    assert.equal(run.code, 3);
    assert.equal(run.stderr, `procguard: cannot take the lock in the state directory ${notADir}: it is not a directory; nothing was done\n`);
    assert.doesNotMatch(run.stderr, STACK_TRACE);
  });

  it('--wait takes a duration, and says so when it is not one', async () => {
    const run = await runProcguard(['apply', '--wait', 'soon', '-c', await policies(join(work, 'state'))]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /option '--wait <duration>' argument 'soon' is invalid\. "soon" is not a duration: use a number of seconds or a whole number with s, m, h or d/);
  });

  it('resume without --all is a usage error', async () => {
    const run = await runProcguard(['resume', '-c', await policies(join(work, 'state'))]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, 'procguard: say --all: resume every process procguard has paused\n');
  });

  it('resume --all --state-dir without -c reads no configuration, so a missing or broken default is not complained about', async () => {
    const state = join(work, 'state');
    await mkdir(state);
    const broken = join(work, 'broken.yaml');
    await writeFile(broken, 'policies: [ {');
    for (const env of [{}, { PROCGUARD_CONFIG: broken }, { PROCGUARD_CONFIG: join(work, 'missing') }]) {
      const run = await runProcguard(['resume', '--all', '--state-dir', state], { env: { PATH: process.env.PATH, ...env } });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'Nothing is paused.\n');
      assert.equal(run.stderr, '', JSON.stringify(env));
    }
  });

  it('resume --all works when the configuration is broken, from --state-dir', async () => {
    const state = join(work, 'state');
    const child = await spawnChild('sleep', ['4250']);
    process.kill(child.pid, 'SIGSTOP');
    await mkdir(state);
    const ref = { pid: child.pid, start_time: child.start_time };
    await writeFile(
      join(state, 'state.json'),
      JSON.stringify({ version: 1, targets: {}, paused: [{ policy: 'gone', root: { ...ref, name: 'sleep' }, processes: [ref], since: Math.floor(child.start_time) }] }),
    );
    const broken = join(work, 'broken.yaml');
    await writeFile(broken, 'policies: [ {');
    const run = await runProcguard(['resume', '--all', '-c', broken, '--state-dir', state]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `resumed: sleep (pid ${child.pid}, paused by gone): resumed 1 process (pid ${child.pid})\n`);
    assert.match(run.stderr, /broken\.yaml:1:\d+: error:/);
    assert.notEqual(child.state(), 'T');
    const audit = (await readFile(join(state, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      audit.map((e) => [e.action, e.status, e.reason]),
      [['resume', 'done', 'procguard resume --all']],
    );
  });
});
