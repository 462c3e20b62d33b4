// Faults while procguard acts, made real: supervisord SIGKILLed in the middle of a restart,
// procguard itself SIGKILLed there, the SMTP server down, the state's file system full.
// After each, the next run is consistent: what was half-done is finished, what could not be
// sent is sent, and the state is the last one written whole. (kill -9 of the daemon while
// processes are paused is in test/integration/daemon.test.ts; of apply after a pause, in
// test/integration/apply.test.ts.)
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineState, Plan } from '../../src/data/types.js';
import type { AuditEntry } from '../../src/data/types.js';
import { startSmtpSink, type SmtpSink } from '../helpers/mail.js';
import { eventually, killAllChildren, spawnChild } from '../helpers/processes.js';
import { BIN, runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';
import { freePort, PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

const PROGRAMS = `
[program:stubborn]
command=node -e "process.on('SIGTERM', () => {}); globalThis.b = Buffer.alloc(60 * 1024 * 1024, 1); setInterval(() => {}, 1e6)"
autostart=false
startsecs=1
stopwaitsecs=4
`;

/** Fills the file system under `dir`, then frees `pages` 4 KiB pages. */
async function fill(dir: string, pages: number): Promise<void> {
  const filler = join(dir, 'filler');
  const handle = await open(filler, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    await handle.close();
  }
  const { size } = await stat(filler);
  await truncate(filler, size - (size % 4096) - pages * 4096);
}

interface ProcessInfo {
  pid: number;
  statename: string;
}

describe('hardening: faults in the middle of a restart', function () {
  this.timeout(90000);
  let sv: Supervisord;
  let work: string;

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(PROGRAMS);
  });
  after(async () => {
    await sv?.stop();
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-fault-'));
    // A test that failed while supervisord was down leaves it down.
    const now = await info().catch(async () => {
      await sv.restart();
      return info();
    });
    if (now.statename !== 'RUNNING') await sv.client.call('supervisor.startProcess', ['stubborn', true]);
  });
  afterEach(async () => {
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  const info = async (): Promise<ProcessInfo> => (await sv.client.call('supervisor.getProcessInfo', ['stubborn'])) as ProcessInfo;
  const env = { PATH: process.env.PATH ?? '', TZ: 'UTC', SV_PASSWORD: PASSWORD };

  async function policies(maxRss: string): Promise<string> {
    const file = join(work, `p-${maxRss}.yaml`);
    await writeFile(
      file,
      `settings: { state_dir: ${join(work, 'state')} }
supervisors:
  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
policies:
  - { name: stubborn-memory, kind: memory, match: { program: stubborn }, max_rss: ${maxRss} }
`,
    );
    return file;
  }

  /** apply as a child the test can kill; resolves with its exit. */
  function startApply(file: string): { pid: number; done: Promise<CliRun> } {
    const child = spawn(process.execPath, [BIN, 'apply', '-c', file, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    return { pid: child.pid!, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
  }

  const state = async (): Promise<EngineState> => JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8')) as EngineState;
  const audit = async (): Promise<AuditEntry[]> =>
    (await readFile(join(work, 'state', 'audit.log'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEntry);

  it('apply killed with -9 between stopProcess and startProcess: the next apply starts the program again', async () => {
    const { pid: oldPid } = await info();
    const run = startApply(await policies('50MB'));
    // The restart is written ahead before the stop; the program ignores TERM, so it stays STOPPING for 4 s.
    await eventually(async () => (await info()).statename === 'STOPPING', 20000, 'stubborn STOPPING');
    assert.deepEqual(
      (await state()).restarting?.map((r) => [r.policy, r.namespec, r.pid]),
      [['stubborn-memory', 'stubborn:stubborn', oldPid]],
    );
    process.kill(run.pid, 'SIGKILL');
    assert.equal((await run.done).code, null);
    await eventually(async () => (await info()).statename === 'STOPPED', 20000, 'stubborn STOPPED');
    assert.ok(existsSync(join(work, 'state', 'lock')), 'the killed run left its lock');

    const next = await runProcguard(['apply', '-c', await policies('500MB'), '--json'], { env });
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.doesNotMatch(next.stderr, STACK_TRACE);
    assert.match(
      next.stderr,
      /restart stubborn:stubborn by stubborn-memory: done: finishing a restart that an earlier run began and did not finish → started stubborn:stubborn again: now pid \d+, RUNNING/,
    );
    const after = await info();
    assert.equal(after.statename, 'RUNNING');
    assert.notEqual(after.pid, oldPid);
    assert.equal((await state()).restarting, undefined);
    assert.ok(!existsSync(join(work, 'state', 'lock')));
    const finished = (await audit()).filter((e) => e.reason?.startsWith('finishing a restart'));
    assert.deepEqual(
      finished.map((e) => [e.action, e.status, e.target?.namespec]),
      [['restart', 'done', 'stubborn:stubborn']],
    );

    // A third run has nothing left to finish.
    const third = await runProcguard(['apply', '-c', await policies('500MB'), '--json'], { env });
    assert.equal(third.code, 0);
    assert.doesNotMatch(third.stderr, /finishing a restart/);
  });

  it('a program started by hand after the killed run is left alone; so is one stopped more than an hour later', async () => {
    const run = startApply(await policies('50MB'));
    await eventually(async () => (await info()).statename === 'STOPPING', 20000, 'stubborn STOPPING');
    process.kill(run.pid, 'SIGKILL');
    await run.done;
    await eventually(async () => (await info()).statename === 'STOPPED', 20000, 'stubborn STOPPED');
    await sv.client.call('supervisor.startProcess', ['stubborn', true]);
    const byHand = (await info()).pid;
    const next = await runProcguard(['apply', '-c', await policies('500MB')], { env });
    assert.equal(next.code, 0, next.stderr);
    assert.equal((await info()).pid, byHand);

    // An entry older than the window: the stopped program is the operator's choice by now.
    await sv.client.call('supervisor.stopProcess', ['stubborn', true]);
    const old = await state();
    old.restarting = [{ policy: 'stubborn-memory', supervisor: 'main', namespec: 'stubborn:stubborn', name: 'node', pid: byHand, since: Math.floor(Date.now() / 1000) - 7200 }];
    await writeFile(join(work, 'state', 'state.json'), JSON.stringify(old));
    const late = await runProcguard(['apply', '-c', await policies('500MB')], { env });
    assert.equal(late.code, 0, late.stderr);
    assert.match(late.stderr, /the restart of stubborn:stubborn by stubborn-memory began more than an hour ago and never finished; it is left as it is/);
    assert.equal((await info()).statename, 'STOPPED');
    assert.equal((await state()).restarting, undefined);
  });

  it('a full disk does not hold a restart back: it goes ahead with a warning that it has no record', async () => {
    const stateDir = join(work, 'state');
    await mkdir(stateDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', stateDir]);
    try {
      const { pid: oldPid } = await info();
      assert.equal((await runProcguard(['apply', '-c', await policies('500MB')], { env })).code, 0);
      await fill(stateDir, 1);
      const full = await runProcguard(['apply', '-c', await policies('50MB'), '--json'], { env });
      assert.equal(full.code, 3, full.stderr);
      assert.match(full.stderr, /warning: cannot write the state file .*: ENOSPC; the previous state is kept; restarting without a record/);
      const plan = JSON.parse(full.stdout) as Plan;
      assert.deepEqual(
        plan.actions.map((a) => [a.action, a.status]),
        [['restart', 'done']],
      );
      const after = await info();
      assert.equal(after.statename, 'RUNNING');
      assert.notEqual(after.pid, oldPid);
    } finally {
      execFileSync('umount', [stateDir]);
    }
  });

  it('supervisord killed with -9 mid-restart: apply fails naming it, keeps the restart, and finishes it once supervisord is back', async () => {
    const { pid: oldPid } = await info();
    const run = startApply(await policies('50MB'));
    await eventually(async () => (await info()).statename === 'STOPPING', 20000, 'stubborn STOPPING');
    await sv.kill9();
    const result = await run.done;
    assert.equal(result.code, 3, result.stdout + result.stderr);
    assert.doesNotMatch(result.stderr, STACK_TRACE);
    const plan = JSON.parse(result.stdout) as Plan;
    assert.deepEqual(
      plan.actions.map((a) => [a.action, a.status]),
      [['restart', 'failed']],
    );
    assert.match(plan.actions[0]?.error ?? '', /supervisor "main"/);
    assert.deepEqual(
      (await state()).restarting?.map((r) => r.namespec),
      ['stubborn:stubborn'],
    );

    // The orphaned program dies with its supervisor's crash in real life only sometimes; here it is ended by hand.
    try {
      process.kill(oldPid, 'SIGKILL');
    } catch {
      // already gone
    }
    // While supervisord is down, the next run fails to finish it and keeps it.
    const down = await runProcguard(['apply', '-c', await policies('500MB')], { env });
    assert.equal(down.code, 3, down.stderr);
    assert.match(down.stderr, /restart stubborn:stubborn by stubborn-memory: failed: finishing a restart .*cannot reach supervisor "main".*; tried again every cycle, reported again when it ends/);
    assert.deepEqual(
      (await state()).restarting?.map((r) => r.namespec),
      ['stubborn:stubborn'],
    );

    await sv.restart(); // autostart=false: supervisord leaves it STOPPED
    assert.equal((await info()).statename, 'STOPPED');
    const back = await runProcguard(['apply', '-c', await policies('500MB')], { env });
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.match(back.stderr, /done: finishing a restart .* → started stubborn:stubborn again: now pid \d+, RUNNING/);
    assert.equal((await info()).statename, 'RUNNING');
    assert.equal((await state()).restarting, undefined);
  });

  it('supervisord down for several cron runs: apply --quiet prints its error once, logs and audits the unfinished restart once, and each once more when it ends', async () => {
    const { pid: oldPid } = await info();
    const run = startApply(await policies('50MB'));
    await eventually(async () => (await info()).statename === 'STOPPING', 20000, 'stubborn STOPPING');
    await sv.kill9();
    const killed = await run.done;
    assert.equal(killed.code, 3, killed.stdout + killed.stderr);
    try {
      process.kill(oldPid, 'SIGKILL');
    } catch {
      // already gone
    }
    const auditBefore = (await audit()).length;

    const RUNS = 5;
    const down: CliRun[] = [];
    for (let i = 0; i < RUNS; i++) down.push(await runProcguard(['apply', '-c', await policies('500MB'), '--quiet'], { env }));
    assert.deepEqual(
      down.map((r) => r.code),
      Array(RUNS).fill(3),
    );
    const count = (texts: string[], pattern: RegExp): number => texts.reduce((n, text) => n + (text.match(new RegExp(pattern, 'g'))?.length ?? 0), 0);
    const stdouts = down.map((r) => r.stdout);
    const stderrs = down.map((r) => r.stderr);
    assert.equal(count(stdouts, /error: supervisor:main: /), 1, stdouts.join('\n---\n'));
    assert.match(down[0]!.stdout, /error: supervisor:main: /);
    assert.deepEqual(stdouts.slice(1), Array(RUNS - 1).fill(''));
    assert.equal(count(stderrs, /failed: finishing a restart/), 1, stderrs.join('\n---\n'));
    assert.match(down[0]!.stderr, /restart stubborn:stubborn by stubborn-memory: failed: finishing a restart .*cannot reach supervisor "main".*; tried again every cycle, reported again when it ends/);
    // (The failed restart action itself ends as a cleared condition: the 500MB policy no longer wants it.)
    const finishing = async (): Promise<AuditEntry[]> => (await audit()).slice(auditBefore).filter((e) => e.reason?.startsWith('finishing a restart'));
    const whileDown = await finishing();
    assert.deepEqual(
      whileDown.map((e) => [e.action, e.status, e.reason]),
      [['restart', 'failed', 'finishing a restart that an earlier run began and did not finish']],
    );
    const restarting = (await state()).restarting ?? [];
    assert.deepEqual(
      restarting.map((r) => [r.namespec, r.attempts]),
      [['stubborn:stubborn', RUNS]],
    );
    assert.equal((await state()).reported?.length, 1);

    await sv.restart();
    const back = await runProcguard(['apply', '-c', await policies('500MB'), '--quiet'], { env });
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.match(back.stderr, new RegExp(`done: finishing a restart .* → started stubborn:stubborn again: now pid \\d+, RUNNING; succeeded after ${RUNS + 1} attempts over `));
    assert.equal(count([back.stdout], /cleared: error: supervisor:main: /), 1, back.stdout);
    assert.equal((await info()).statename, 'RUNNING');
    const ended = (await finishing()).slice(1);
    assert.deepEqual(
      ended.map((e) => [e.action, e.status]),
      [['restart', 'done']],
    );
    assert.match(ended[0]!.detail ?? '', new RegExp(`succeeded after ${RUNS + 1} attempts`));
    const state2 = await state();
    assert.equal(state2.restarting, undefined);
    assert.equal(state2.reported, undefined);

    const quiet = await runProcguard(['apply', '-c', await policies('500MB'), '--quiet'], { env });
    assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, '', '']);
  });

  it('an unfinished restart given up after the hour says how often finishing it failed, once, in the log and the audit log', async () => {
    const file = await policies('500MB');
    const first = await runProcguard(['apply', '-c', file, '--quiet'], { env });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const now = Math.floor(Date.now() / 1000);
    const old = await state();
    old.restarting = [
      {
        policy: 'stubborn-memory',
        supervisor: 'main',
        namespec: 'stubborn:stubborn',
        name: 'node',
        pid: 4242,
        since: now - 7200,
        failing_since: now - 7000,
        attempts: 9,
        error: 'cannot reach supervisor "main"',
      },
    ];
    await writeFile(join(work, 'state', 'state.json'), JSON.stringify(old));
    const late = await runProcguard(['apply', '-c', file, '--quiet'], { env });
    assert.equal(late.code, 0, late.stderr);
    assert.match(late.stderr, /began more than an hour ago and never finished; it is left as it is \(finishing it failed 9 times over 1h56m\d*s? since .* UTC: cannot reach supervisor "main"\)/);
    const entries = await audit();
    assert.deepEqual(
      entries.map((e) => [e.action, e.status, e.error]),
      [['restart', 'cleared', 'cannot reach supervisor "main"']],
    );
    assert.match(entries[0]!.detail ?? '', /failed 9 times/);
    const after = await runProcguard(['apply', '-c', file, '--quiet'], { env });
    assert.deepEqual([after.code, after.stdout, after.stderr], [0, '', '']);
    assert.equal((await audit()).length, 1);
  });
});

describe('hardening: the SMTP server is down', function () {
  this.timeout(60000);
  let work: string;
  let smtp: SmtpSink | undefined;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-smtp-'));
  });
  afterEach(async () => {
    killAllChildren();
    await smtp?.close();
    smtp = undefined;
    await rm(work, { recursive: true, force: true });
  });

  it('the mail is queued in the state and delivered by a later run once the server is up', async () => {
    const port = await freePort();
    const victim = await spawnChild('sleep', ['4545']);
    const file = join(work, 'p.yaml');
    await writeFile(
      file,
      `settings: { state_dir: ${join(work, 'state')} }
notifiers:
  ops: { mail: { to: ops@example.com, from: procguard@example.com, smtp: "smtp://127.0.0.1:${port}" }, timeout: 5s }
policies:
  - { name: sleeper, kind: memory, match: { cmdline: "^sleep 4545$" }, max_rss: 1KB, action: kill, notify: [{ to: ops }] }
`,
    );
    const first = await runProcguard(['apply', '-c', file, '--json']);
    assert.equal(first.code, 3, first.stderr);
    const plan = JSON.parse(first.stdout) as Plan;
    assert.deepEqual(
      plan.actions.map((a) => [a.action, a.status]),
      [['kill', 'done']],
    );
    assert.deepEqual(
      plan.notifications.map((n) => n.status),
      ['failed'],
    );
    assert.match(plan.notifications[0]?.error ?? '', /ECONNREFUSED/);
    await eventually(() => victim.state() === undefined || victim.state() === 'Z', 5000, 'the victim killed');
    const queued = JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8')) as EngineState;
    assert.equal(queued.pending?.length, 1);
    assert.equal(queued.pending?.[0]?.attempts, 1);
    const subject = queued.pending?.[0]?.notification.subject ?? '';
    assert.match(subject, /kill .*sleep/);

    // Still down: the next run tries again, counts the attempt, and keeps it.
    const second = await runProcguard(['apply', '-c', file]);
    assert.equal(second.code, 3);
    const still = JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8')) as EngineState;
    assert.equal(still.pending?.[0]?.attempts, 2);

    smtp = await startSmtpSink({ port });
    // The backoff waits a cycle after the second attempt (attempts 1, 2, 4, 8 … cycles apart): still failing.
    const waiting = await runProcguard(['apply', '-c', file]);
    assert.equal(waiting.code, 3, waiting.stdout + waiting.stderr);
    assert.equal(smtp.messages.length, 0);
    const third = await runProcguard(['apply', '-c', file]);
    assert.equal(third.code, 0, third.stdout + third.stderr);
    assert.equal(smtp.messages.length, 1);
    assert.equal(smtp.messages[0]?.headers.get('subject'), subject);
    const delivered = JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8')) as EngineState;
    assert.equal(delivered.pending, undefined);
    const entries = (await readFile(join(work, 'state', 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    assert.deepEqual(
      entries.filter((e) => e.type === 'notification').map((e) => e.status),
      ['failed', 'done'],
      'the second failure, with the same error, is a repeat: audited once when it began',
    );

    const fourth = await runProcguard(['apply', '-c', file]);
    assert.equal(fourth.code, 0);
    assert.equal(smtp.messages.length, 1, 'delivered once');
  });
});

describe('hardening: the state file system is full', function () {
  this.timeout(60000);
  let work: string;
  let mounted = false;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-full-'));
    await mkdir(join(work, 'state'));
    // A real full disk: a 1 MiB tmpfs (procguard's tests run as root, as procguard does).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', join(work, 'state')]);
    mounted = true;
  });
  afterEach(async () => {
    killAllChildren();
    if (mounted) execFileSync('umount', [join(work, 'state')]);
    mounted = false;
    await rm(work, { recursive: true, force: true });
  });

  it('apply keeps the previous state whole, says why, leaves no temporary file and no lock; the next run with space goes on from it', async () => {
    const sleeper = await spawnChild('sleep', ['4646']);
    const file = join(work, 'p.yaml');
    await writeFile(
      file,
      `settings: { state_dir: ${join(work, 'state')} }
policies:
  - { name: sleeper, kind: memory, match: { cmdline: "^sleep 4646$" }, max_rss: 1KB, for: 3, action: kill }
`,
    );
    const statePath = join(work, 'state', 'state.json');
    const first = await runProcguard(['apply', '-c', file]);
    assert.equal(first.code, 0, first.stderr);
    const before = await readFile(statePath, 'utf8');
    assert.match(before, /"over":1/);

    // One page left: enough for the lock, not for the new state or the audit log.
    await fill(join(work, 'state'), 1);
    const full = await runProcguard(['apply', '-c', file]);
    assert.equal(full.code, 3, full.stdout + full.stderr);
    assert.doesNotMatch(full.stderr, STACK_TRACE);
    assert.match(full.stderr, new RegExp(`cannot write the state file ${statePath.replace(/[./]/g, '\\$&')}: ENOSPC; the previous state is kept`));
    assert.equal(await readFile(statePath, 'utf8'), before);
    assert.deepEqual((await readdir(join(work, 'state'))).sort(), ['filler', 'state.json']);

    // No space at all: the lock cannot be written, nothing is done, and no empty lock is left to block the next run.
    await fill(join(work, 'state'), 0);
    const none = await runProcguard(['apply', '-c', file]);
    assert.equal(none.code, 3);
    assert.match(none.stderr, /cannot take the lock in the state directory .*: ENOSPC; nothing was done/);
    assert.deepEqual((await readdir(join(work, 'state'))).sort(), ['filler', 'state.json']);

    await rm(join(work, 'state', 'filler'));
    const next = await runProcguard(['apply', '-c', file]);
    assert.equal(next.code, 0, next.stderr);
    // The cycle whose state was lost does not count: the second one written is 2, not 3, so nothing is killed yet.
    assert.match(await readFile(statePath, 'utf8'), /"over":2/);
    assert.ok(sleeper.state() !== undefined && sleeper.state() !== 'Z');
  });
});
