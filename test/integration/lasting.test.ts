// A condition that lasts, as cron's `apply --quiet` lives with it: a real process whose
// oom_score_adj procguard cannot lower (it runs as an unprivileged user, without
// CAP_SYS_RESOURCE), and an audit-mode policy on the same process, over a dozen cycles. Counts
// how often each reaches the output cron mails, the log on stderr and the audit log: once when
// it begins and once when it ends.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry } from '../../src/data/types.js';
import { readStartTime } from '../../src/host/proc.js';
import { eventually } from '../helpers/processes.js';
import { BIN, runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';
import { unprivilegedUser, type UnprivilegedUser } from '../helpers/unprivileged-user.js';

const USER = 'pg19lasting';
/** The sleeper's command line, this test's own: no other run on the machine matches it. */
const SLEEP_ARG = '19431';
const CYCLES = 12;

describe('integration: a lasting condition over a dozen cron cycles', function () {
  this.timeout(120000);
  let user: UnprivilegedUser;
  let work: string;
  let sleeper: ChildProcess | undefined;

  before(() => {
    user = unprivilegedUser(USER);
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-lasting-'));
    await chown(work, user.uid, user.gid);
    sleeper = spawn('sleep', [SLEEP_ARG], { uid: user.uid, gid: user.gid, stdio: 'ignore', detached: true });
    await eventually(() => sleeper?.pid !== undefined && readStartTime(sleeper.pid) !== undefined, 5000, 'the sleeper started');
  });
  afterEach(async () => {
    stopSleeper();
    await rm(work, { recursive: true, force: true });
  });

  function stopSleeper(): void {
    if (sleeper?.pid !== undefined && sleeper.exitCode === null) {
      try {
        process.kill(sleeper.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  async function policies(mode: 'enforce' | 'audit'): Promise<string> {
    const file = join(work, 'policies.yaml');
    await writeFile(
      file,
      `settings: { state_dir: ${join(work, 'state')} }
policies:
  - { name: sleeper-oom, kind: oom, mode: ${mode}, match: { cmdline: "^sleep ${SLEEP_ARG}$", user: ${USER} }, oom_score_adj: -500 }
`,
    );
    await chown(file, user.uid, user.gid);
    return file;
  }

  /** procguard as the unprivileged user, as cron would run it. */
  const procguard = (args: string[]): Promise<CliRun> => runProcguard(args, { asUser: USER });

  const audit = async (): Promise<AuditEntry[]> =>
    (await readFile(join(work, 'state', 'audit.log'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEntry);

  /** How many of the runs printed (or logged) something about the sleeper's oom_score_adj. */
  const mentions = (texts: readonly string[]): number => texts.filter((text) => text.includes('set_oom_score_adj')).length;

  it('a failing write: once in cron output and the audit log when it begins, once when it clears; exit 3 while it lasts', async () => {
    const file = await policies('enforce');
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(user.run(['cat', '/proc/self/status']))?.[1];
    const pid = sleeper!.pid!;
    const error = `EACCES: not permitted to write /proc/${pid}/oom_score_adj: lowering oom_score_adj needs CAP_SYS_RESOURCE, which is missing from procguard's effective capabilities (CapEff ${capEff} in /proc/self/status)`;

    const runs: CliRun[] = [];
    for (let i = 0; i < CYCLES; i += 1) runs.push(await procguard(['apply', '--quiet', '-c', file]));
    for (const run of runs) assert.doesNotMatch(run.stderr + run.stdout, STACK_TRACE);
    assert.deepEqual(
      runs.map((r) => r.code),
      runs.map(() => 3),
      'every cycle exits 3 while the action fails',
    );
    assert.equal(mentions(runs.map((r) => r.stdout)), 1, runs.map((r) => r.stdout).join('\n---\n'));
    assert.match(runs[0]!.stdout, new RegExp(`set_oom_score_adj -500 +sleep \\(pid ${pid}\\) +sleeper-oom +failed +oom_score_adj 0, wants -500 → ${escape(error)}`));
    assert.equal(mentions(runs.map((r) => r.stderr)), 0, runs.map((r) => r.stderr).join('\n---\n'));
    const failed = (await audit()).filter((e) => e.policy === 'sleeper-oom');
    assert.deepEqual(
      failed.map((e) => [e.status, e.error]),
      [['failed', error]],
    );

    // The state holds one condition: 4 attempts in 12 cycles (cycles 1, 2, 4 and 8).
    const state = JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8')) as { lasting: Array<{ attempts: number; error: string; skip_cycles: number }> };
    assert.deepEqual(
      state.lasting.map((c) => [c.attempts, c.error, c.skip_cycles]),
      [[4, error, 3]],
    );

    // `check` is a report: it shows the action every time, waiting out its backoff.
    const check = await procguard(['check', '-c', file]);
    assert.match(check.stdout, /set_oom_score_adj -500 +sleep .* skipped +retrying in 3 cycles \(failing since .*, 4 attempts\)/);

    stopSleeper();
    await eventually(() => readStartTime(pid) === undefined, 5000, 'the sleeper gone');
    const cleared = await procguard(['apply', '--quiet', '-c', file]);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.match(
      cleared.stdout,
      new RegExp(`cleared: set_oom_score_adj sleep \\(pid ${pid}\\) by sleeper-oom: no longer failing: the process is gone; failed 4 times over \\d+s since .* \\(${escape(error)}\\)`),
    );
    const quiet = await procguard(['apply', '--quiet', '-c', file]);
    assert.equal(quiet.stdout, '', 'nothing new: nothing printed');
    assert.deepEqual(
      (await audit()).filter((e) => e.policy === 'sleeper-oom').map((e) => e.status),
      ['failed', 'cleared'],
    );
  });

  it('the long-running modes log it once when it begins and once when it ends (the event listener, a dozen TICK_5 events)', async () => {
    const file = await policies('enforce');
    const listener = spawn('runuser', ['-u', USER, '--', process.execPath, BIN, 'eventlistener', '-c', file], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', PROCGUARD_LOG_FORMAT: 'json' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    listener.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    listener.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const results = (): number => stdout.split('RESULT 2\nOK').length - 1;
    const tick = async (serial: number): Promise<void> => {
      await eventually(() => stdout.endsWith('READY\n'), 20000, `READY before event ${serial}`);
      // A tick stamped after the last cycle began, so that each runs a cycle.
      const payload = `when:${Math.ceil(Date.now() / 1000) + serial}`;
      listener.stdin.write(`ver:3.0 server:supervisor serial:${serial} pool:procguard poolserial:${serial} eventname:TICK_5 len:${payload.length}\n${payload}`);
      await eventually(() => results() === serial, 20000, `the answer to event ${serial}`);
    };
    try {
      for (let serial = 1; serial <= CYCLES; serial += 1) await tick(serial);
      const events = (): Array<{ msg: string; level: string; status?: string }> =>
        stderr
          .split('\n')
          .filter((line) => line.includes('set_oom_score_adj'))
          .map((line) => JSON.parse(line) as { msg: string; level: string; status?: string });
      assert.deepEqual(
        events().map((e) => [e.level, e.status]),
        [['error', 'failed']],
        stderr,
      );
      stopSleeper();
      await eventually(() => readStartTime(sleeper!.pid!) === undefined, 5000, 'the sleeper gone');
      await tick(CYCLES + 1);
      await tick(CYCLES + 2);
      assert.deepEqual(
        events().map((e) => [e.level, e.status]),
        [
          ['error', 'failed'],
          ['info', 'cleared'],
        ],
        stderr,
      );
      assert.match(events()[1]!.msg, /^cleared: set_oom_score_adj sleep \(pid \d+\) by sleeper-oom: no longer failing: the process is gone; failed 4 times over /);
    } finally {
      // Gone before the directory is removed: a listener still saving its state would leave files behind.
      const closed = new Promise((resolve) => listener.once('close', resolve));
      listener.stdin.end();
      listener.kill('SIGTERM');
      await closed;
    }
  });

  it('an audit-mode finding: once in cron output and the audit log when it begins and when it ends; check shows it every time', async () => {
    const file = await policies('audit');
    const runs: CliRun[] = [];
    const checks: CliRun[] = [];
    for (let i = 0; i < CYCLES; i += 1) {
      runs.push(await procguard(['apply', '--quiet', '-c', file]));
      if (i < 3) checks.push(await procguard(['check', '-c', file]));
    }
    for (const run of [...runs, ...checks]) assert.doesNotMatch(run.stderr + run.stdout, STACK_TRACE);
    assert.deepEqual(
      runs.map((r) => r.code),
      runs.map(() => 0),
    );
    assert.equal(mentions(runs.map((r) => r.stdout)), 1, runs.map((r) => r.stdout).join('\n---\n'));
    assert.match(runs[0]!.stdout, /set_oom_score_adj -500 +sleep .* skipped +audit mode \(oom_score_adj 0, wants -500\)/);
    assert.equal(mentions(runs.map((r) => r.stderr)), 0);
    assert.equal(mentions(checks.map((r) => r.stdout)), 3, 'check is a report: it shows the finding every time');
    assert.deepEqual(
      (await audit()).filter((e) => e.policy === 'sleeper-oom').map((e) => [e.status, e.reason]),
      [['skipped', 'audit mode (oom_score_adj 0, wants -500)']],
    );

    stopSleeper();
    await eventually(() => readStartTime(sleeper!.pid!) === undefined, 5000, 'the sleeper gone');
    const ended = await procguard(['apply', '--quiet', '-c', file]);
    assert.match(ended.stdout, /cleared: set_oom_score_adj sleep \(pid \d+\) by sleeper-oom: audit finding ended: the process is gone; found in 12 cycles/);
    assert.deepEqual(
      (await audit()).filter((e) => e.policy === 'sleeper-oom').map((e) => e.status),
      ['skipped', 'cleared'],
    );
  });

  it('a warning that stands (two oom policies disagree): once in cron output when it appears, once when it is gone; nothing in the log or the audit log', async () => {
    const file = join(work, 'policies.yaml');
    const write = async (second: boolean): Promise<void> => {
      const match = `match: { cmdline: "^sleep ${SLEEP_ARG}$", user: ${USER} }`;
      await writeFile(
        file,
        `settings: { state_dir: ${join(work, 'state')} }
policies:
  - { name: sleeper-as-is, kind: oom, ${match}, oom_score_adj: 0 }
${second ? `  - { name: sleeper-higher, kind: oom, ${match}, oom_score_adj: 100 }\n` : ''}`,
      );
      await chown(file, user.uid, user.gid);
    };
    await write(true);
    const runs: CliRun[] = [];
    for (let i = 0; i < CYCLES; i += 1) runs.push(await procguard(['apply', '--quiet', '-c', file]));
    for (const run of runs) assert.doesNotMatch(run.stderr + run.stdout, STACK_TRACE);
    assert.deepEqual(
      runs.map((r) => r.code),
      runs.map(() => 0),
    );
    const disagree = (texts: readonly string[]): number => texts.filter((text) => text.includes('disagree')).length;
    assert.equal(disagree(runs.map((r) => r.stdout)), 1, runs.map((r) => r.stdout).join('\n---\n'));
    assert.match(runs[0]!.stdout, /warning: sleep \(pid \d+\): policies "sleeper-as-is" \(oom_score_adj 0\) and "sleeper-higher" \(100\) disagree/);
    assert.deepEqual(
      runs.slice(1).map((r) => r.stdout + r.stderr),
      runs.slice(1).map(() => ''),
    );
    // Without --quiet it is shown every time.
    const loud = await procguard(['apply', '-c', file]);
    assert.equal(disagree([loud.stdout]), 1);

    await write(false);
    const gone = await procguard(['apply', '--quiet', '-c', file]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, /^cleared: warning: sleep \(pid \d+\): policies "sleeper-as-is" .* disagree; .*$/m);
    assert.equal(disagree([gone.stdout]), 1);
    const after = await procguard(['apply', '--quiet', '-c', file]);
    assert.deepEqual([after.code, after.stdout, after.stderr], [0, '', '']);
    assert.deepEqual(await audit(), []);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
