// `procguard run` as a real daemon process: a real supervisord and a program that really holds
// more memory than its cap, policy files edited in place and by rename while it runs, a real
// child paused by a load the test writes to a file, SIGTERM and kill -9.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { logEvents, logText } from '../helpers/log-events.js';
import { BIN, STACK_TRACE } from '../helpers/run-cli.js';
import { HOG_COMMAND, PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

interface Daemon {
  process: ChildProcess;
  /** The messages it logged on stderr so far, one per line. */
  log(): string;
  /** Everything on its stderr so far, as written. */
  stderr(): string;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('integration: procguard run, the daemon', function () {
  this.timeout(90000);
  let sv: Supervisord;
  let work: string;
  let confDir: string;
  let loadFile: string;
  const daemons: Daemon[] = [];

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(`[program:hog]\ncommand=${HOG_COMMAND}\nstartsecs=1\nautorestart=true\n`);
  });
  after(async () => {
    await sv?.stop();
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-daemon-'));
    confDir = join(work, 'procguard');
    await mkdir(confDir);
    loadFile = join(work, 'loadavg');
    await setLoad(0.1);
  });
  afterEach(async () => {
    for (const daemon of daemons.splice(0)) daemon.process.kill('SIGKILL');
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  const setLoad = (one: number): Promise<void> => writeFile(loadFile, `${one.toFixed(2)} 1.00 1.00 1/200 4242\n`);
  const hogPid = async (): Promise<number> => ((await sv.client.call('supervisor.getProcessInfo', ['hog'])) as { pid: number }).pid;
  const settings = (): string => `settings:\n  state_dir: ${join(work, 'state')}\n`;

  function startDaemon(args: string[] = []): Daemon {
    const child = spawn(process.execPath, [BIN, 'run', '-c', confDir, '--interval', '1s', ...args], {
      env: { PATH: process.env.PATH ?? '', TZ: 'UTC', SV_PASSWORD: PASSWORD, PROCGUARD_LOADAVG: loadFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const daemon = { process: child, log: () => logText(stderr), stderr: () => stderr, stdout: () => stdout, exited };
    daemons.push(daemon);
    return daemon;
  }

  const logged = (daemon: Daemon, pattern: RegExp): Promise<void> => eventually(() => pattern.test(daemon.log()), 10000, `a log line ${pattern}`);

  /** A real child paused by a daemon at load 5 (pause_above 4, resume_below 2). */
  async function pausedChild(): Promise<{ child: Child; daemon: Daemon }> {
    // A duration no other process on this host sleeps for: the policy must pause no process but this child.
    const child = await spawnChild('sleep', ['307']);
    await writeFile(join(confDir, 'load.yaml'), `${settings()}policies:\n  - { name: sleep-backoff, kind: load, match: { cmdline: "^sleep 307$" }, pause_above: 4.0, resume_below: 2.0 }\n`);
    await setLoad(5);
    const daemon = startDaemon();
    await eventually(() => child.state() === 'T', 10000, 'the child paused');
    return { child, daemon };
  }

  async function stop(daemon: Daemon): Promise<number | null> {
    daemon.process.kill('SIGTERM');
    const { code } = await daemon.exited;
    assert.doesNotMatch(daemon.log(), STACK_TRACE);
    return code;
  }

  function hogPolicy(limit: string): string {
    return `${settings()}supervisors:
  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
policies:
  - name: hog-memory
    kind: memory
    match: { program: hog }
    max_rss: ${limit}
`;
  }

  it('an edit to a watched file changes the limit at the next tick; a broken edit is reported and the old limit keeps working', async () => {
    const file = join(confDir, 'hog.yaml');
    await writeFile(file, hogPolicy('500MB'));
    const daemon = startDaemon();
    await eventually(() => daemon.log().includes('running: 1 policy'), 10000, 'the daemon running');
    const first = await hogPid();
    await new Promise((resolve) => setTimeout(resolve, 2500)); // two ticks under the 500MB limit
    assert.equal(await hogPid(), first, 'not restarted under the 500MB limit');
    assert.doesNotMatch(daemon.log(), /restart hog:hog/);

    // Saved the way vim and most editors do: a new file renamed over the old one.
    await writeFile(`${file}.tmp`, hogPolicy('50MB'));
    await rename(`${file}.tmp`, file);
    await eventually(() => /changed: reloaded; 1 policy in force; changed \(cycle counts start afresh, actions taken still count\): hog-memory/.test(daemon.log()), 5000, 'the reload');
    await eventually(async () => (await hogPid()) !== first, 8000, 'the hog restarted under the new 50MB limit');
    await logged(daemon, /restart hog:hog \(pid \d+\) by hog-memory: done: rss [\d.]+ MiB > 50\.0 MiB/);

    // A broken edit, written in place: reported with file:line:col, and the 50MB limit stays in force.
    await writeFile(file, `${hogPolicy('50MB')}    max_actions: { count: 5, within: [1h\n`);
    await eventually(() => daemon.log().includes('the new configuration is invalid; the last good one stays in force (1 policy)'), 5000, 'the broken edit reported');
    assert.match(daemon.log(), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: error: YAML: `));
    const second = await hogPid();
    await eventually(async () => (await hogPid()) !== second && (await hogPid()) !== 0, 8000, 'the hog restarted again under the old 50MB limit');

    // Fixed again: a good set, with nothing changed, keeps its counters.
    await writeFile(file, hogPolicy('50MB'));
    await eventually(() => daemon.log().includes('changed: reloaded; 1 policy in force; no policy changed'), 5000, 'the fixed file reloaded');
    assert.equal(await stop(daemon), 0);
    assert.equal(daemon.stdout(), '', 'the daemon logs on stderr only');

    // Not on a terminal, every line is a JSON event; the restart carries its policy, target and reason.
    const events = logEvents(daemon.stderr());
    const restart = events.find((e) => e.event === 'action' && e.status === 'done');
    assert.deepEqual(
      { policy: restart?.policy, action: restart?.action, namespec: (restart?.target as { namespec?: string } | undefined)?.namespec, level: restart?.level },
      { policy: 'hog-memory', action: 'restart', namespec: 'hog:hog', level: 'info' },
    );
    assert.match(String(restart?.reason), /^rss [\d.]+ MiB > 50\.0 MiB \(cycle 1 of 1\)$/);
    const refused = events.find((e) => e.event === 'reload' && e.ok === false);
    assert.equal(refused?.level, 'error');
    assert.ok(events.every((e) => e.name === 'procguard' && typeof e.time === 'string' && e.pid === daemon.process.pid));
  });

  it('SIGHUP reloads; a new file in the directory is picked up', async () => {
    await writeFile(join(confDir, '10-hog.yaml'), hogPolicy('500MB'));
    const daemon = startDaemon(['--interval', '1h']);
    await eventually(() => daemon.log().includes('running: 1 policy'), 10000, 'the daemon running');
    daemon.process.kill('SIGHUP');
    await eventually(() => daemon.log().includes('SIGHUP: reloaded; 1 policy in force; no policy changed'), 20000, 'the SIGHUP reload');
    await writeFile(join(confDir, '20-oom.yaml'), 'policies:\n  - { name: oom-sleepers, kind: oom, match: { cmdline: "^sleep 308$" }, oom_score_adj: 100 }\n');
    await eventually(() => daemon.log().includes('20-oom.yaml changed: reloaded; 2 policies in force; added: oom-sleepers'), 20000, 'the new file');
    await writeFile(join(confDir, 'notes.txt'), 'not a policy file');
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.doesNotMatch(daemon.log(), /notes\.txt/);
    assert.equal(await stop(daemon), 0);
  });

  it('SIGTERM resumes a process it paused, saves the state and exits 0', async () => {
    const { child, daemon } = await pausedChild();
    await logged(daemon, new RegExp(`pause sleep \\(pid ${child.pid}\\) by sleep-backoff: done: load 5\\.00`));

    assert.equal(await stop(daemon), 0);
    assert.equal(child.state(), 'S');
    assert.match(daemon.log(), new RegExp(`stop: resumed: sleep \\(pid ${child.pid}, paused by sleep-backoff\\)`));
    const state = JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8')) as { paused: unknown[] };
    assert.deepEqual(state.paused, []);
  });

  it('kill -9 while a process is paused, then start again: it is resumed at start', async () => {
    const { child, daemon: crashed } = await pausedChild();
    crashed.process.kill('SIGKILL'); // as soon as the child is stopped: often before the cycle has saved its final state
    await crashed.exited;
    assert.equal(child.state(), 'T', 'still stopped after the crash');

    // The load is now between resume_below and pause_above: a cycle would hold a paused process, so only the start resumes it.
    await setLoad(3);
    const restarted = startDaemon();
    await eventually(() => child.state() === 'S', 10000, 'the child resumed');
    await logged(restarted, new RegExp(`start: resumed: sleep \\(pid ${child.pid}, paused by sleep-backoff\\)`));
    await new Promise((resolve) => setTimeout(resolve, 2500)); // two or three cycles at 1s
    assert.equal(child.state(), 'S', 'not paused again in the band');
    const audit = (await readFile(join(work, 'state', 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; reason?: string; status: string });
    // The kill may land before the first cycle appended its pause to the audit log (the state was written ahead of the SIGSTOP).
    assert.ok(audit.filter((e) => e.action === 'pause').length <= 1, JSON.stringify(audit));
    assert.deepEqual(
      audit.filter((e) => e.action !== 'pause').map((e) => [e.action, e.status, e.reason]),
      [['resume', 'done', 'start']],
    );
    assert.equal(await stop(restarted), 0);
  });

  it('an invalid configuration at start: exit 2 with FILE:LINE:COL, nothing done', async () => {
    await writeFile(join(confDir, 'bad.yaml'), `${settings()}policies:\n  - { name: x, kind: memory, match: { program: hog }, max_rss: lots }\n`);
    const daemon = startDaemon();
    const { code } = await daemon.exited;
    assert.equal(code, 2);
    assert.match(daemon.log(), /bad\.yaml:4:\d+: error: .*max_rss/);
    assert.match(daemon.log(), /the configuration is invalid; the daemon did not start/);
    assert.ok(
      logEvents(daemon.stderr()).some((e) => e.level === 'error' && e.event === 'config'),
      'the file problem is an error event',
    );
  });
});
