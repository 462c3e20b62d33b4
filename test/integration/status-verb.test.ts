// `procguard status` and `procguard history` on a host that cron's `apply` has worked on: a real
// supervisord with a program a policy matches, a policy that matches nothing, a real process
// paused by a load policy (the load read from a file the test writes) and a notifier that
// fails. Neither verb needs a daemon, and neither acts nor writes.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatusReport } from '../../src/cli/status-report.js';
import { eventually, killAllChildren, sleep, spawnChild } from '../helpers/processes.js';
import { runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';
import { PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

// Command lines of this file's own, so no other test's processes are matched.
const PROGRAMS = `
[program:sleeper19]
command=sleep 19731
startsecs=1
`;

describe('integration: status and history of a host without a daemon', function () {
  this.timeout(90000);
  let sv: Supervisord;
  let work: string;
  let loadFile: string;

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(PROGRAMS);
  });
  after(async () => {
    await sv?.stop();
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-status-verb-'));
    loadFile = join(work, 'loadavg');
    await eventually(async () => ((await sv.client.call('supervisor.getProcessInfo', ['sleeper19'])) as { statename: string }).statename === 'RUNNING', 20000, 'sleeper19 RUNNING');
  });
  afterEach(async () => {
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  const procguard = (args: string[]): Promise<CliRun> => runProcguard(args, { env: { PATH: process.env.PATH ?? '', TZ: 'UTC', SV_PASSWORD: PASSWORD, PROCGUARD_LOADAVG: loadFile } });

  async function policies(supervisors: string): Promise<string> {
    const file = join(work, `policies-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(
      file,
      `settings:
  state_dir: ${join(work, 'state')}
supervisors:
${supervisors}
notifiers:
  broken: { exec: ["/bin/false"] }
policies:
  - { name: sleeper-memory, kind: memory, match: { program: sleeper19 }, max_rss: 500MB }
  - { name: absent-oom, kind: oom, match: { program: absent19 }, oom_score_adj: -100 }
  - { name: sleeper-backoff, kind: load, match: { cmdline: "^sleep 19732" }, pause_above: 4.0, resume_below: 2.0, notify: [ { to: broken } ] }
`,
    );
    return file;
  }

  it('shows the matched program with its headroom, the policy that matches nothing, the paused process and the failing notification', async () => {
    const child = await spawnChild('sh', ['-c', 'exec sleep 19732']);
    const file = await policies(`  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }`);
    await writeFile(loadFile, '9.00 1.00 1.00 1/200 4242\n');
    for (let cycle = 1; cycle <= 2; cycle += 1) {
      // Audit entries carry whole seconds: the second cycle's are told from the first's by their second.
      if (cycle === 2) await sleep(1100);
      const apply = await procguard(['apply', '-c', file]);
      assert.equal(apply.code, 3, `the notifier fails: ${apply.stdout}${apply.stderr}`);
    }
    await eventually(() => child.state() === 'T', 3000, 'paused');
    const stateDir = join(work, 'state');
    const before = await stateFiles(stateDir);

    const text = await procguard(['status', '-c', file]);
    assert.equal(text.code, 0, text.stderr);
    assert.doesNotMatch(text.stdout + text.stderr, STACK_TRACE);
    const program = (await sv.client.call('supervisor.getProcessInfo', ['sleeper19'])) as { pid: number };
    const lines = text.stdout.split('\n');
    // The second cycle tried the notification again and it failed again: a lasting failure, in the audit log only when it began.
    assert.match(text.stdout, /^last cycle: \S+Z \(.+, when state\.json was written\); nothing new carried out; 1 still failing$/m);
    assert.ok(
      lines.some((l) => /^main +unix:\/\/\S+ +1 +answers$/.test(l)),
      text.stdout,
    );
    assert.match(
      text.stdout,
      new RegExp(
        `^sleeper-memory \\(memory\\): max_rss 500\\.0 MiB per process, then restart; 1 matched\\n.+\\n  sleeper19:sleeper19 \\(pid ${program.pid}\\) +ok +[\\d.]+ [KM]iB +500\\.0 MiB +[\\d.]+ MiB \\([\\d.]+% used\\)`,
        'm',
      ),
    );
    assert.match(text.stdout, /^absent-oom \(oom\): oom_score_adj -100; matches no process$/m);
    assert.match(text.stdout, new RegExp(`^sleep \\(pid ${child.pid}\\) +sleeper-backoff +1 process +\\S+Z \\(`, 'm'));
    assert.match(text.stdout, new RegExp(`^notify broken +sleep \\(pid ${child.pid}\\) +sleeper-backoff +\\S+Z \\(.+\\) +2 +.+`, 'm'));

    const json = await procguard(['status', '-c', file, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as StatusReport;
    assert.deepEqual(report.supervisors, [{ name: 'main', url: sv.unixUrl, answers: true, programs: 1 }]);
    assert.deepEqual(
      report.policies.map((p) => [p.name, p.targets.map((t) => [t.target.namespec ?? t.target.name, t.target.pid, t.verdict])]),
      [
        ['sleeper-memory', [['sleeper19:sleeper19', program.pid, 'ok']]],
        ['absent-oom', []],
        ['sleeper-backoff', [['sleep', child.pid, 'hold']]],
      ],
    );
    const memory = report.policies[0]!.targets[0]!.headroom!;
    assert.equal(memory.limit, 500 * 1024 * 1024);
    assert.equal(memory.left, memory.limit - memory.value);
    assert.deepEqual(
      report.paused.map((p) => [p.policy, p.pid, p.processes, p.alive]),
      [['sleeper-backoff', child.pid, 1, true]],
    );
    assert.deepEqual(
      report.failing.map((f) => [f.type, f.policy, f.to, f.target?.pid, f.attempts, f.first_failed < f.last_failed]),
      [['notification', 'sleeper-backoff', 'broken', child.pid, 2, true]],
    );
    assert.equal(report.last_cycle?.source, 'state.json');
    assert.deepEqual(report.errors, []);

    const history = await procguard(['history', '-c', file]);
    assert.equal(history.code, 0, history.stderr);
    assert.deepEqual(
      history.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/ {2,}/).slice(1, 5)),
      [
        ['POLICY', 'ACTION', 'TARGET', 'OUTCOME'],
        ['sleeper-backoff', 'pause', `sleep (pid ${child.pid})`, 'done'],
        ['sleeper-backoff', 'notify broken', `sleep (pid ${child.pid})`, 'failed'],
      ],
    );

    assert.equal(child.state(), 'T', 'status never acts: still paused');
    assert.deepEqual(await stateFiles(stateDir), before, 'status and history write nothing');
  });

  it('exits 3 and says which supervisor does not answer', async () => {
    const file = await policies(`  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
  gone: { url: "unix://${join(work, 'no.sock')}" }`);
    await writeFile(loadFile, '0.10 1.00 1.00 1/200 4242\n');
    const run = await procguard(['status', '-c', file]);
    assert.equal(run.code, 3, run.stderr);
    assert.doesNotMatch(run.stdout + run.stderr, STACK_TRACE);
    assert.match(run.stdout, /^main +unix:\S+ +1 +answers$/m);
    assert.match(run.stdout, /^gone +unix:\S+no\.sock +0 +not answering: .*ENOENT/m);
    assert.match(run.stdout, /^last cycle: none has written its state here yet$/m);
    assert.match(run.stdout, /^error: supervisor:gone: /m);
  });
});

/** Every file of the state directory with its size and modification time. */
async function stateFiles(dir: string): Promise<Array<[string, number, number]>> {
  const names = (await readdir(dir)).sort();
  return Promise.all(
    names.map(async (name): Promise<[string, number, number]> => {
      const s = await stat(join(dir, name));
      return [name, s.size, s.mtimeMs];
    }),
  );
}
