// The set-ups shipped in examples/ work as written: the supervisord snippets load into a real
// supervisord and their listeners come up and stay up, the systemd units pass
// `systemd-analyze verify`, the hub file validates, and the cron line's command runs a cycle.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, sleep } from './helpers/processes.js';
import { logEvents } from './helpers/log-events.js';
import { BIN, runProcguard } from './helpers/run-cli.js';
import { PASSWORD, requireSupervisord, startSupervisord, type Supervisord } from './helpers/supervisord.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../bundle/procguard.js', import.meta.url));

describe('examples/', function () {
  this.timeout(60000);
  let work: string;
  let sv: Supervisord | undefined;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-examples-'));
    await writeFile(
      join(work, 'policies.yaml'),
      `settings:\n  state_dir: ${join(work, 'state')}\npolicies:\n  - { name: oom-nothing, kind: oom, match: { name: no-such-process-here }, oom_score_adj: 5 }\n`,
    );
  });
  afterEach(async () => {
    await sv?.stop();
    sv = undefined;
    await rm(work, { recursive: true, force: true });
  });

  /** The snippet as an operator installs it, with this checkout's procguard, a temporary policy directory and log directory. */
  async function installed(snippet: string): Promise<{ text: string; listener: string; log: string }> {
    const text = (await readFile(join(EXAMPLES, 'supervisord', snippet), 'utf8'))
      .replaceAll('/usr/bin/procguard', `${process.execPath} ${BIN}`)
      .replaceAll('/etc/procguard', join(work, 'policies.yaml'))
      .replaceAll('/var/log/supervisor/', `${work}/`)
      .replaceAll('change-me', PASSWORD);
    const listener = /^\[eventlistener:(\w+)\]/m.exec(text)?.[1] ?? '';
    const log = /^stderr_logfile=(.+)$/m.exec(text)?.[1] ?? '';
    return { text, listener, log };
  }

  for (const [snippet, name, started] of [
    ['procguard-eventlistener.conf', 'procguard', /^listening for supervisord events: 1 policy from .*policies\.yaml/],
    ['memmon-dropin.conf', 'procguard memmon', /^watching 2 rules \(-p web=200MB -g workers=500MB\) on unix:\/\/.*, mail to ops@example\.com$/],
  ] as const) {
    it(`supervisord/${snippet}: loads into a real supervisord, and the listener starts and stays RUNNING`, async () => {
      requireSupervisord();
      const { text, listener, log } = await installed(snippet);
      assert.ok(listener && log, 'an [eventlistener] with a stderr_logfile');
      assert.match(text, /^events=TICK_60$/m);
      sv = await startSupervisord(text);
      const state = async (): Promise<{ statename: string; pid: number }> => (await sv!.client.call('supervisor.getProcessInfo', [listener])) as { statename: string; pid: number };
      await eventually(async () => (await state()).statename === 'RUNNING', 10000, `${listener} RUNNING`);
      const { pid } = await state();
      await sleep(2000);
      assert.deepEqual(await state().then((s) => [s.statename, s.pid]), ['RUNNING', pid]);
      const [first] = logEvents(await readFile(log, 'utf8'));
      assert.equal(first?.name, name);
      assert.match(first?.msg ?? '', started);
    });
  }

  it('systemd/: procguard.service, procguard-apply.service and procguard-apply.timer pass systemd-analyze verify', async () => {
    const found = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
    if (!found) throw new Error('systemd-analyze is not installed: apt-get install -y systemd (this test checks the shipped units with it)');
    const units = ['procguard.service', 'procguard-apply.service', 'procguard-apply.timer'];
    const texts: Record<string, string> = {};
    for (const name of units) {
      texts[name] = (await readFile(join(EXAMPLES, 'systemd', name), 'utf8')).replace('/usr/bin/procguard', process.execPath);
      await writeFile(join(work, name), texts[name]);
    }
    // The manual pages they name are checked where the package installs them (test/package/).
    const result = spawnSync('systemd-analyze', ['verify', '--man=no', ...units.map((name) => join(work, name))], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '');
    assert.match(texts['procguard.service'] ?? '', /^ExecStart=\/usr\/bin\/node(?: --\S+)* \/usr\/lib\/procguard\/procguard\.js run -c \/etc\/procguard$/m);
    assert.match(texts['procguard.service'] ?? '', /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(texts['procguard-apply.service'] ?? '', /^ExecStart=\S+ apply --quiet -c \/etc\/procguard$/m);
  });

  it('systemd/procguard-hub.service and hub/: the unit verifies, the hub file and its file_sd file are valid', async () => {
    const found = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
    if (!found) throw new Error('systemd-analyze is not installed: apt-get install -y systemd (this test checks the shipped unit with it)');
    const unit = (await readFile(join(EXAMPLES, 'systemd', 'procguard-hub.service'), 'utf8')).replace('/usr/bin/procguard', process.execPath);
    const path = join(work, 'procguard-hub.service');
    await writeFile(path, unit);
    const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '');
    assert.match(unit, /^ExecStart=\S+ hub -c \/etc\/procguard\/hub\.d\/hub\.yaml --listen 127\.0\.0\.1:9300$/m);
    const validated = await runProcguard(['validate', join(EXAMPLES, 'hub', 'hub.d', 'hub.yaml')]);
    assert.equal(validated.code, 0, validated.stdout);
    assert.match(validated.stdout, /valid hub configuration: 2 agents, 1 file_sd path in 1 file\n$/);
    assert.doesNotMatch(validated.stdout, /warning/);
    const { parseFileSd } = await import('../src/hub/file-sd.js');
    const sd = await parseFileSd('batch.json', await readFile(join(EXAMPLES, 'hub', 'hub.d', 'batch.json'), 'utf8'));
    assert.deepEqual(sd.diagnostics, []);
    assert.equal(sd.agents.length, 3);
  });

  it("systemd/procguard.service: the daemon started with the unit's node options logs JSON lines and nothing else on stderr", async () => {
    const unit = await readFile(join(EXAMPLES, 'systemd', 'procguard.service'), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    // The unit's command with this checkout's bundle and the temporary policy file.
    const [node, ...args] = execStart.replace('/usr/lib/procguard/procguard.js', BUNDLE).replace('/etc/procguard', join(work, 'policies.yaml')).split(' ');
    assert.equal(node, '/usr/bin/node');
    assert.ok(args.includes('--lite-mode') && args.includes('--expose-gc'), execStart);
    const daemon = spawn(process.execPath, [...args, '--interval', '1s'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC' } });
    let stderr = '';
    daemon.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', resolve));
    // Started (its first cycle runs at once), then stopped: bounded by what it logs, not by a clock.
    await eventually(() => stderr.includes('running:'), 30000, 'the daemon to start');
    daemon.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    const events = logEvents(stderr);
    assert.match(events[0]?.msg ?? '', /^running: 1 policy/);
    assert.match(events.at(-1)?.msg ?? '', /^stopped after \d+ cycles?/);
  });

  it('cron/procguard: the cron line runs one quiet cycle', async () => {
    const crontab = await readFile(join(EXAMPLES, 'cron', 'procguard'), 'utf8');
    const line = crontab.split('\n').find((l) => /^\*/.test(l)) ?? '';
    const args = line.split(/\s+/).slice(6); // minute hour day month weekday user command…
    assert.deepEqual(args.slice(0, 2), ['procguard', 'apply']);
    const run = await runProcguard([...args.slice(1).map((a) => (a === '/etc/procguard' ? join(work, 'policies.yaml') : a))]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '', '--quiet: nothing to mail when nothing happened');
  });
});
