// Prometheus as the fleet's long-term view: a real Prometheus (Debian's package) scrapes two real
// procguard daemons (one listed statically, one through file_sd) and answers queries for the
// series of every supervisor, program and matched target; promtool finds nothing to say about
// the metrics, whether served or written by `apply --metrics-file`; and the example alert rules
// pass their promtool unit tests, one for every rule.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { logEvents } from '../helpers/log-events.js';
import { eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { acquireLock } from '../../src/state/lock.js';
import { promtool, query, startPrometheus, type Server } from '../helpers/prometheus.js';
import { BIN, runProcguard, STACK_TRACE } from '../helpers/run-cli.js';
import { HOG_COMMAND, PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/prometheus/', import.meta.url));
const MiB = 1024 * 1024;

describe('integration: Prometheus scraping two procguard daemons', function () {
  this.timeout(120000);
  let sv: Supervisord;
  let work: string;
  let prometheus: Server | undefined;
  const daemons: Array<{ process: ChildProcess; stderr: string; url: string }> = [];
  let sleeper: Child;

  async function startDaemon(conf: string, env: Record<string, string>): Promise<{ process: ChildProcess; stderr: string; url: string }> {
    const daemon = {
      process: spawn(process.execPath, [BIN, 'run', '-c', conf, '--interval', '1s', '--listen', '127.0.0.1:0'], {
        env: { PATH: process.env.PATH ?? '', TZ: 'UTC', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
      stderr: '',
      url: '',
    };
    daemon.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (daemon.stderr += chunk));
    daemons.push(daemon);
    await eventually(() => logEvents(daemon.stderr).some((e) => e.event === 'listen'), 15000, 'the daemon listening');
    daemon.url = String(logEvents(daemon.stderr).find((e) => e.event === 'listen')!.url);
    return daemon;
  }

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(`[program:hog]\ncommand=${HOG_COMMAND}\nstartsecs=1\n\n[program:calm]\ncommand=sleep 2721100\nstartsecs=0\n`);
    work = await mkdtemp(join(tmpdir(), 'pg-prom-'));
    await writeFile(join(work, 'loadavg'), '6.00 1.00 1.00 1/200 4242\n');
    sleeper = await spawnChild('sleep', ['2721101']);
    // Web: a supervisord and one that is gone; the hog over its limit in audit mode, cycle after cycle; the calm one's uptime.
    await mkdir(join(work, 'web'));
    await writeFile(
      join(work, 'web', 'policies.yaml'),
      `settings: { state_dir: ${join(work, 'web-state')} }
supervisors:
  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
  gone: { url: "unix://${join(work, 'no-such.sock')}" }
policies:
  - { name: hog-memory, kind: memory, mode: audit, match: { program: hog }, max_rss: 50MB }
  - { name: calm-runtime, kind: runtime, mode: audit, match: { program: calm }, max_runtime: 1d }
`,
    );
    // Batch: an unsupervised process paused under a high load.
    await mkdir(join(work, 'batch'));
    await writeFile(
      join(work, 'batch', 'policies.yaml'),
      `settings: { state_dir: ${join(work, 'batch-state')} }
policies:
  - { name: sleeper-backoff, kind: load, match: { name: sleep, cmdline: "^sleep 2721101$" }, pause_above: 4, resume_below: 2 }
`,
    );
    const web = await startDaemon(join(work, 'web'), { SV_PASSWORD: PASSWORD });
    const batch = await startDaemon(join(work, 'batch'), { PROCGUARD_LOADAVG: join(work, 'loadavg') });
    const target = (url: string): string => new URL(url).host;
    prometheus = await startPrometheus(
      (dir) => `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: procguard
    static_configs:
      - targets: ['${target(web.url)}']
        labels: { role: web }
    file_sd_configs:
      - files: ['${join(dir, 'agents-*.json')}']
`,
      { 'agents-batch.json': JSON.stringify([{ targets: [target(batch.url)], labels: { role: 'batch' } }]) },
    );
  });

  after(async () => {
    await prometheus?.stop();
    for (const daemon of daemons) {
      if (daemon.process.exitCode !== null) continue;
      const exited = new Promise((resolve) => daemon.process.once('exit', resolve));
      daemon.process.kill('SIGTERM');
      await exited;
    }
    killAllChildren();
    await sv?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The series of a query, by the labels asked for, once Prometheus has them. */
  async function series(expression: string, key: (labels: Record<string, string>) => string, count: number): Promise<Map<string, number>> {
    let result = new Map<string, number>();
    await eventually(
      async () => {
        result = new Map((await query(prometheus!, expression)).map((r) => [key(r.metric), Number(r.value[1])]));
        return result.size >= count;
      },
      30000,
      `${count} series of ${expression}`,
    );
    return result;
  }

  it('scrapes both agents, the static one and the one from file_sd, with their labels', async () => {
    const up = await series('up{job="procguard"}', (m) => m.role!, 2);
    assert.deepEqual(Object.fromEntries(up), { web: 1, batch: 1 });
  });

  it('answers for each supervisor whether it answered, and each program its state, up and start time', async () => {
    const supervisors = await series('procguard_supervisor_up', (m) => `${m.role}/${m.supervisor}`, 2);
    assert.deepEqual(Object.fromEntries(supervisors), { 'web/main': 1, 'web/gone': 0 });
    const states = await series('procguard_program_state', (m) => `${m.supervisor}/${m.group}:${m.name}`, 2);
    assert.equal(states.get('main/calm:calm'), 20);
    const up = await series('procguard_program_up{name="calm"}', (m) => m.name!, 1);
    assert.equal(up.get('calm'), 1);
    const info = (await sv.client.call('supervisor.getProcessInfo', ['calm'])) as { start: number };
    const started = await series('procguard_program_start_time_seconds{name="calm"}', (m) => m.name!, 1);
    // The process' own start time from /proc; supervisord's is the second it spawned it.
    assert.ok(Math.abs(started.get('calm')! - info.start) <= 2, `${started.get('calm')} vs ${info.start}`);
  });

  it("answers each matched target's measured value against its policy's limit, and the cycles it has been over", async () => {
    const limits = await series('procguard_target_limit_bytes', (m) => `${m.policy}/${m.group}:${m.name}`, 1);
    assert.equal(limits.get('hog-memory/hog:hog'), 50 * MiB);
    const over = await series('procguard_target_measured_bytes > on (instance, policy, supervisor, group, name) procguard_target_limit_bytes', (m) => m.policy!, 1);
    assert.ok(over.get('hog-memory')! > 50 * MiB);
    const cycles = await series('procguard_target_cycles_over{policy="hog-memory"} >= 2', (m) => m.name!, 1);
    assert.ok(cycles.get('hog')! >= 2);
    const uptime = await series('procguard_target_measured_seconds{policy="calm-runtime"}', (m) => m.name!, 1);
    const limit = await series('procguard_target_limit_seconds{policy="calm-runtime"}', (m) => m.name!, 1);
    assert.ok(uptime.get('calm')! >= 0 && uptime.get('calm')! < 600);
    assert.equal(limit.get('calm'), 86400);
  });

  it('answers what is paused and since when, and the actions by policy, action and outcome', async () => {
    const trees = await series('procguard_paused_trees', (m) => `${m.role}/${m.policy}`, 1);
    assert.deepEqual(Object.fromEntries(trees), { 'batch/sleeper-backoff': 1 });
    const since = await series('procguard_paused_since_timestamp_seconds', (m) => `${m.policy}/${m.name}`, 1);
    assert.ok(Math.abs(since.get('sleeper-backoff/sleep')! - Date.now() / 1000) < 120);
    assert.equal(sleeper.state(), 'T');
    const actions = await series('procguard_actions_total{status="done"}', (m) => `${m.policy}/${m.action}`, 1);
    assert.equal(actions.get('sleeper-backoff/pause'), 1);
    const failing = await series('procguard_notifications_waiting', (m) => m.role!, 2);
    assert.deepEqual(Object.fromEntries(failing), { web: 0, batch: 0 });
  });

  it('promtool check metrics has nothing to say about either agent', async () => {
    for (const daemon of daemons) {
      const text = await (await fetch(`${daemon.url}/metrics`)).text();
      assert.match(text, /^procguard_supervisor_up|^procguard_paused_trees/m);
      const check = promtool(['check', 'metrics'], text);
      assert.deepEqual(check, { status: 0, output: '' });
    }
  });
});

describe('apply --metrics-file', function () {
  this.timeout(60000);
  let work: string;
  let sleeper: Child;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-textfile-'));
    await mkdir(join(work, 'textfile'), { mode: 0o755 });
    await writeFile(join(work, 'loadavg'), '6.00 1.00 1.00 1/200 4242\n');
    sleeper = await spawnChild('sleep', ['2721102']);
    await writeFile(
      join(work, 'policies.yaml'),
      `settings: { state_dir: ${join(work, 'state')} }
policies:
  - { name: sleeper-backoff, kind: load, match: { name: sleep, cmdline: "^sleep 2721102$" }, pause_above: 4, resume_below: 2 }
  - { name: sleeper-memory, kind: memory, mode: audit, match: { name: sleep, cmdline: "^sleep 2721102$" }, max_rss: 1KB }
`,
    );
  });
  afterEach(async () => {
    sleeper.kill();
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  const apply = (file: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    runProcguard(['apply', '-c', join(work, 'policies.yaml'), '-q', '--metrics-file', file], { env: { PATH: process.env.PATH ?? '', TZ: 'UTC', PROCGUARD_LOADAVG: join(work, 'loadavg') } });

  it('writes the series of the run for the textfile collector, readable by all, and the counters go on from run to run', async () => {
    const file = join(work, 'textfile', 'procguard.prom');
    const first = await apply(file);
    assert.equal(first.code, 0, first.stderr);
    const second = await apply(file);
    assert.equal(second.code, 0, second.stderr);
    const text = await readFile(file, 'utf8');
    assert.equal((await stat(file)).mode & 0o777, 0o644);
    const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}".=]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.equal(value('procguard_cycles_total{result="ok"}'), 2);
    assert.equal(value('procguard_actions_total{policy="sleeper-backoff",action="pause",status="done"}'), 1);
    assert.equal(value('procguard_actions_total{policy="sleeper-memory",action="restart",status="skipped"}'), 2);
    assert.equal(value('procguard_paused_trees{policy="sleeper-backoff"}'), 1);
    assert.equal(value('procguard_target_limit_bytes{policy="sleeper-memory",supervisor="",group="",name="sleep"}'), 1024);
    assert.equal(value('procguard_target_cycles_over{policy="sleeper-memory",supervisor="",group="",name="sleep"}'), 2);
    assert.ok(value('procguard_last_cycle_duration_seconds') > 0);
    // One run's file has no histogram of one observation, and nothing but the file is left in the directory.
    assert.doesNotMatch(text, /_bucket/);
    assert.deepEqual(promtool(['check', 'metrics'], text), { status: 0, output: '' });
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual(await readdir(join(work, 'textfile')), ['procguard.prom']);
    await runProcguard(['resume', '-c', join(work, 'policies.yaml'), '--all']);
  });

  it('a run that could not take the lock is a failed cycle in the file, and nothing else changes', async () => {
    const file = join(work, 'textfile', 'procguard.prom');
    assert.equal((await apply(file)).code, 0);
    const lock = await acquireLock(join(work, 'state'), { wait: 0 });
    try {
      const run = await runProcguard(['apply', '-c', join(work, 'policies.yaml'), '-q', '--wait', '0s', '--metrics-file', file], {
        env: { PATH: process.env.PATH ?? '', TZ: 'UTC', PROCGUARD_LOADAVG: join(work, 'loadavg') },
      });
      assert.equal(run.code, 3, run.stderr);
    } finally {
      await lock.release();
    }
    const text = await readFile(file, 'utf8');
    assert.match(text, /^procguard_cycles_total\{result="ok"\} 1$/m);
    assert.match(text, /^procguard_cycles_total\{result="failed"\} 1$/m);
    assert.match(text, /^procguard_actions_total\{policy="sleeper-backoff",action="pause",status="done"\} 1$/m);
    await runProcguard(['resume', '-c', join(work, 'policies.yaml'), '--all']);
  });

  for (const [what, prepare, expected] of [
    ['a directory others may write to', async (dir: string) => chmod(dir, 0o777), /Refused: the directory of the metrics file .* is writable by group and others \(mode 0777\)/],
    ['a symbolic link in its place', async (dir: string) => symlink('/etc/passwd', join(dir, 'procguard.prom')), /it exists and is not a regular file \(a symbolic link\)/],
    ['a directory that does not exist', async (dir: string) => rm(dir, { recursive: true }), /cannot use the directory .*: ENOENT/],
  ] as const) {
    it(`refuses ${what} before doing anything (exit 2)`, async () => {
      const dir = join(work, 'textfile');
      await prepare(dir);
      const run = await apply(join(dir, 'procguard.prom'));
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, expected);
      assert.doesNotMatch(run.stderr, STACK_TRACE);
      // Nothing was done: the sleeper runs on.
      assert.equal(sleeper.state() === 'T', false);
    });
  }
});

describe('examples/prometheus', () => {
  it('the scrape config and the rules pass promtool check', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pg-prom-example-'));
    try {
      await cp(EXAMPLES, dir, { recursive: true });
      const config = promtool(['check', 'config', 'prometheus.yml'], undefined, dir);
      assert.equal(config.status, 0, config.output);
      assert.match(config.output, /SUCCESS: prometheus\.yml is valid/);
      const rules = promtool(['check', 'rules', 'procguard.rules.yml'], undefined, dir);
      assert.equal(rules.status, 0, rules.output);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every alert rule has a promtool unit test where it fires, and they pass', async () => {
    const rules = parse(await readFile(join(EXAMPLES, 'procguard.rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> };
    const tests = parse(await readFile(join(EXAMPLES, 'procguard.rules.test.yml'), 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    const firing = new Set(tests.tests.flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    assert.ok(alerts.length >= 7);
    assert.deepEqual(
      alerts.filter((a) => !firing.has(a)),
      [],
      'rules without a test where they fire',
    );
    const run = promtool(['test', 'rules', 'procguard.rules.test.yml'], undefined, EXAMPLES);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  });
});
