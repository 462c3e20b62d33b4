// `procguard apply` and `procguard resume --all` as cron runs them, against a real supervisord
// with a program that really holds more memory than its cap, a real SMTP server, a sendmail
// capture script and real child processes paused by a load the test writes to a file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveDeps } from '../../src/actions/deps.js';
import { adapter as supervisorAdapter } from '../../src/actions/supervisor/supervisor.js';
import type { Plan } from '../../src/data/types.js';
import { dataValidator } from '../helpers/data-validators.js';
import type { AuditEntry } from '../../src/data/types.js';
import { acquireLock } from '../../src/state/lock.js';
import { readCaptured, startSmtpSink, writeCaptureScript, type SmtpSink } from '../helpers/mail.js';
import { eventually, killAllChildren, spawnChild } from '../helpers/processes.js';
import { BIN, runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';
import { policySetOf } from '../helpers/snapshots.js';
import { HOG_COMMAND, PASSWORD, requireSupervisord, startSupervisord, USERNAME, writeFlakyProgram, type Supervisord } from '../helpers/supervisord.js';

const FLAKY_DIR = join(tmpdir(), `pg-flaky-${process.pid}`);
const PROGRAMS = `
[program:hog]
command=${HOG_COMMAND}
startsecs=1
autorestart=true

[program:stubborn]
command=node -e "process.on('SIGTERM', () => {}); globalThis.b = Buffer.alloc(60 * 1024 * 1024, 1); setInterval(() => {}, 1e6)"
startsecs=1
stopwaitsecs=3

[program:flaky]
command=${FLAKY_DIR}/flaky.sh
startsecs=1
startretries=0
autorestart=false
`;

const HOG_OVER_50MB = `
policies:
  - { name: hog-memory, kind: memory, match: { program: hog }, max_rss: 50MB }
`;

interface ProcessInfo {
  pid: number;
  statename: string;
}

describe('integration: apply and resume against a real supervisord', function () {
  this.timeout(90000);
  let sv: Supervisord;
  let smtp: SmtpSink;
  let work: string;
  let loadFile: string;
  let flaky: Awaited<ReturnType<typeof writeFlakyProgram>>;
  const validPlan = dataValidator('plan.schema.json');

  before(async () => {
    requireSupervisord();
    await mkdir(FLAKY_DIR, { recursive: true });
    flaky = await writeFlakyProgram(FLAKY_DIR);
    sv = await startSupervisord(PROGRAMS);
    smtp = await startSmtpSink();
  });
  after(async () => {
    await sv?.stop();
    await smtp?.close();
    await rm(FLAKY_DIR, { recursive: true, force: true });
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-apply-'));
    loadFile = join(work, 'loadavg');
    await setLoad(0.1);
    smtp.messages.length = 0;
    await waitRunning('hog');
  });
  afterEach(async () => {
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  const info = async (name: string): Promise<ProcessInfo> => (await sv.client.call('supervisor.getProcessInfo', [name])) as ProcessInfo;
  const waitRunning = (name: string): Promise<void> => eventually(async () => (await info(name)).statename === 'RUNNING', 20000, `${name} RUNNING`);
  const setLoad = (one: number): Promise<void> => writeFile(loadFile, `${one.toFixed(2)} 1.00 1.00 1/200 4242\n`);

  async function policies(body: string): Promise<string> {
    const file = join(work, 'policies.yaml');
    await writeFile(
      file,
      `settings:
  state_dir: ${join(work, 'state')}
supervisors:
  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
${body}`,
    );
    return file;
  }

  function procguard(args: string[]): Promise<CliRun> {
    return runProcguard(args, { env: { PATH: process.env.PATH ?? '', TZ: 'UTC', SV_PASSWORD: PASSWORD, PROCGUARD_LOADAVG: loadFile } });
  }

  async function apply(file: string, extra: string[] = []): Promise<{ run: CliRun; plan: Plan }> {
    const run = await procguard(['apply', '-c', file, '--json', ...extra]);
    assert.doesNotMatch(run.stderr, STACK_TRACE);
    let plan: Plan;
    try {
      plan = JSON.parse(run.stdout) as Plan;
    } catch {
      throw new Error(`apply printed something that is not the JSON plan:\n${run.stdout}\nstderr: ${run.stderr}`);
    }
    assert.ok(validPlan(plan), JSON.stringify(validPlan.errors));
    return { run, plan };
  }

  const audit = async (): Promise<AuditEntry[]> =>
    (await readFile(join(work, 'state', 'audit.log'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEntry);

  it('restarts the program over its cap (new pid, RUNNING again) and the mail arrives at a real SMTP server', async () => {
    const before = await info('hog');
    const file = await policies(`
notifiers:
  ops:
    mail:
      to: [ops@example.com]
      from: procguard@example.com
      smtp: ${smtp.url}
      subject: "procguard [{{host}}]: {{action}} {{target.namespec}} ({{status}})"
policies:
  - { name: hog-memory, kind: memory, match: { program: hog }, max_rss: 50MB, notify: [ { to: ops } ] }
`);
    const { run, plan } = await apply(file);
    assert.equal(run.code, 0, run.stderr);
    const [action] = plan.actions;
    assert.deepEqual([action?.action, action?.status, action?.target.namespec, action?.target.pid], ['restart', 'done', 'hog:hog', before.pid]);
    const after = await info('hog');
    assert.notEqual(after.pid, before.pid);
    assert.equal(after.statename, 'RUNNING');
    assert.equal(action?.result, `restarted hog:hog: was pid ${before.pid}, now pid ${after.pid}, RUNNING`);

    assert.equal(smtp.messages.length, 1);
    const mail = smtp.messages[0]!;
    assert.equal(mail.headers.get('subject'), `procguard [${plan.host}]: restart hog:hog (done)`);
    assert.equal(mail.headers.get('from'), 'procguard@example.com');
    assert.deepEqual(mail.to, ['ops@example.com']);
    const date = Date.parse(mail.headers.get('date') ?? '');
    assert.ok(Math.abs(date - Date.now()) < 60000, `a Date header of now: ${mail.headers.get('date')}`);
    assert.deepEqual(
      plan.notifications.map((n) => [n.to, n.status]),
      [['ops', 'done']],
    );

    const entries = await audit();
    assert.deepEqual(
      entries.map((e) => [e.type, e.policy, e.action, e.status]),
      [
        ['action', 'hog-memory', 'restart', 'done'],
        ['notification', 'hog-memory', 'restart', 'done'],
      ],
    );
    const state = JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8'));
    assert.ok(dataValidator('state.schema.json')(state));
  });

  it("the same through the sendmail transport: procguard's own subject, and sendmail's chatter never reaches stdout", async () => {
    const script = await writeCaptureScript(work);
    const file = await policies(`
notifiers:
  ops: { mail: { to: [ops@example.com], sendmail: "${script} -t -i" } }
policies:
  - { name: hog-memory, kind: memory, match: { program: hog }, max_rss: 50MB, notify: [ { to: ops, uptime_at_most: 1d } ] }
`);
    const { run, plan } = await apply(file); // apply() fails if stdout is anything but the plan
    assert.equal(run.code, 0, run.stderr);
    assert.equal(plan.actions[0]?.status, 'done');
    const mails = await readCaptured(work);
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0]?.args, ['-t', '-i']);
    assert.match(mails[0]?.headers.get('subject') ?? '', /^procguard: hog-memory: restart hog:hog on \S+ \(memory [\d.]+ MiB, over the limit of 50\.0 MiB\)$/);
    assert.equal(mails[0]?.headers.get('to'), 'ops@example.com');
    assert.match(mails[0]?.headers.get('from') ?? '', /^procguard@/);
    assert.ok(mails[0]?.headers.get('date'));
    assert.match(mails[0]?.body ?? '', /^procguard restarted hog:hog on \S+, at \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\.\n/);
    assert.match(mails[0]?.body ?? '', /\naction: {5}restart, done: restarted hog:hog: was pid \d+, now pid \d+, RUNNING\n/);
  });

  it('a restart whose start fails: failed with the fault by name, mailed as FAILED, exit 3', async () => {
    await waitRunning('flaky');
    const script = await writeCaptureScript(work);
    const file = await policies(`
notifiers:
  ops: { mail: { to: [ops@example.com], sendmail: "${script} -t -i" } }
policies:
  - { name: flaky-memory, kind: memory, match: { program: flaky }, max_rss: 50MB, notify: [ { to: ops } ] }
`);
    await flaky.broken(true);
    try {
      const { run, plan } = await apply(file);
      assert.equal(run.code, 3);
      const [action] = plan.actions;
      assert.equal(action?.status, 'failed');
      assert.match(action?.error ?? '', /^stopped flaky:flaky \(was pid \d+\) but could not start it again: supervisor "main": supervisor.startProcess failed: SPAWN_ERROR: flaky:flaky$/);
      const [mail] = await readCaptured(work);
      assert.match(mail?.headers.get('subject') ?? '', new RegExp(`^procguard: flaky-memory: restart flaky:flaky FAILED on ${plan.host} \\(memory [\\d.]+ MiB, over the limit of 50\\.0 MiB\\)$`));
      assert.match(mail?.body ?? '', /could not start it again: supervisor "main": supervisor.startProcess failed: SPAWN_ERROR/);
    } finally {
      await flaky.broken(false);
      await sv.client.call('supervisor.startProcess', ['flaky', true]).catch(() => undefined);
    }
  });

  it('a program slow to stop (ignores TERM for stopwaitsecs) is still restarted, past the client timeout', async () => {
    await waitRunning('stubborn');
    const before = await info('stubborn');
    const file = join(work, 'slow.yaml');
    await writeFile(
      file,
      `settings: { state_dir: ${join(work, 'state')} }
supervisors:
  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD, timeout: 1s }
policies:
  - { name: stubborn-memory, kind: memory, match: { program: stubborn }, max_rss: 50MB }
`,
    );
    const { run, plan } = await apply(file);
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(
      plan.actions.map((a) => a.status),
      ['done'],
    );
    const after = await info('stubborn');
    assert.notEqual(after.pid, before.pid);
    assert.equal(after.statename, 'RUNNING');
  });

  it('a program supervisord restarted since the snapshot is not restarted again', async () => {
    const set = policySetOf(`supervisors:\n  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }\n`);
    const now = await info('hog');
    const stalePid = now.pid + 100000;
    const outcome = await supervisorAdapter.execute(
      {
        type: 'action',
        action: {
          policy: 'hog-memory',
          kind: 'memory',
          action: 'restart',
          mode: 'enforce',
          target: { pid: stalePid, name: 'node', supervisor: 'main', namespec: 'hog:hog' },
          reason: 'r',
          status: 'planned',
        },
      },
      liveDeps(set.supervisors, { SV_PASSWORD: PASSWORD }, () => undefined),
    );
    assert.deepEqual(outcome, { status: 'skipped', reason: `hog:hog no longer runs pid ${stalePid} (now pid ${now.pid}, RUNNING); not acting on a changed program` });
    assert.equal((await info('hog')).pid, now.pid);
  });

  it('for: 2 across two cron runs: the first counts, the second restarts', async () => {
    const before = await info('hog');
    const file = await policies(`
policies:
  - { name: hog-memory, kind: memory, match: { program: hog }, max_rss: 50MB, for: 2 }
`);
    const first = await apply(file);
    assert.deepEqual(first.plan.actions, []);
    assert.equal((await info('hog')).pid, before.pid);
    const second = await apply(file);
    assert.deepEqual(
      second.plan.actions.map((a) => [a.action, a.status]),
      [['restart', 'done']],
    );
    assert.match(second.plan.actions[0]?.reason ?? '', /\(cycle 2 of 2\)$/);
    assert.notEqual((await info('hog')).pid, before.pid);
  });

  it('the flapping guard stops acting after count and notifies once', async () => {
    const script = await writeCaptureScript(work);
    const file = await policies(`
notifiers:
  ops: { mail: { to: [ops@example.com], sendmail: "${script} -t -i" } }
policies:
  - { name: hog-memory, kind: memory, match: { program: hog }, max_rss: 50MB, max_actions: { count: 1, within: 1h }, notify: [ { to: ops } ] }
`);
    const first = await apply(file);
    assert.deepEqual(
      first.plan.actions.map((a) => a.status),
      ['done'],
    );
    await waitRunning('hog');
    const restarted = await info('hog');
    const second = await apply(file);
    assert.deepEqual(
      second.plan.actions.map((a) => [a.status, a.reason]),
      [['skipped', 'flapping guard: 1 restart actions within 1h (max_actions 1)']],
    );
    const third = await apply(file);
    assert.deepEqual(
      third.plan.actions.map((a) => a.status),
      ['skipped'],
    );
    assert.deepEqual(third.plan.notifications, []);
    assert.equal((await info('hog')).pid, restarted.pid, 'not restarted again');
    const subjects = (await readCaptured(work)).map((m) => m.headers.get('subject'));
    assert.equal(subjects.length, 2);
    assert.match(subjects[0] ?? '', /^procguard: hog-memory: restart hog:hog on /);
    assert.match(subjects[1] ?? '', /^procguard: hog-memory is not acting on hog:hog on \S+: flapping guard: 1 restart actions within 1h \(max_actions 1\)$/);
  });

  it('pauses a real child while the load is high, holds it in the band, resumes it when the load falls; resume --all too', async () => {
    const child = await spawnChild('sh', ['-c', 'exec sleep 4243']);
    const file = await policies(`
policies:
  - { name: sleeper-backoff, kind: load, match: { cmdline: "^sleep 4243" }, pause_above: 4.0, resume_below: 2.0 }
`);
    await setLoad(5);
    const paused = await apply(file);
    assert.deepEqual(
      paused.plan.actions.map((a) => [a.action, a.status, a.target.pid]),
      [['pause', 'done', child.pid]],
    );
    await eventually(() => child.state() === 'T', 3000, 'the child stopped');
    await setLoad(3);
    assert.deepEqual((await apply(file)).plan.actions, []);
    assert.equal(child.state(), 'T', 'held in the band');
    await setLoad(1);
    const resumed = await apply(file);
    assert.deepEqual(
      resumed.plan.actions.map((a) => [a.action, a.status]),
      [['resume', 'done']],
    );
    await eventually(() => child.state() !== 'T', 3000, 'the child running again');

    await setLoad(5);
    await apply(file);
    await eventually(() => child.state() === 'T', 3000, 'paused again');
    const resume = await procguard(['resume', '--all', '-c', file]);
    assert.equal(resume.code, 0, resume.stderr);
    assert.equal(resume.stdout, `resumed: sleep (pid ${child.pid}, paused by sleeper-backoff): resumed 1 process (pid ${child.pid})\n`);
    await eventually(() => child.state() !== 'T', 3000, 'resumed by resume --all');
    const state = JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8'));
    assert.deepEqual(state.paused, []);
    assert.equal((await procguard(['resume', '--all', '-c', file])).stdout, 'Nothing is paused.\n');
  });

  it('apply killed with -9 after pausing: the state already names the process, and resume --all continues it', async () => {
    const child = await spawnChild('sh', ['-c', 'exec sleep 4247']);
    const slowNotifier = join(work, 'slow-notifier.sh');
    await writeFile(slowNotifier, `#!/bin/sh\ntouch ${work}/notifying\nsleep 60\n`, { mode: 0o755 });
    const file = await policies(`
notifiers:
  slow: { exec: ["${slowNotifier}"] }
policies:
  - { name: sleeper-backoff, kind: load, match: { cmdline: "^sleep 4247" }, pause_above: 4.0, notify: [ { to: slow } ] }
`);
    await setLoad(5);
    const applying = spawn(process.execPath, [BIN, 'apply', '-c', file], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '', SV_PASSWORD: PASSWORD, PROCGUARD_LOADAVG: loadFile } });
    await eventually(
      async () =>
        readFile(join(work, 'notifying')).then(
          () => true,
          () => false,
        ),
      10000,
      'apply to reach its notifications',
    );
    assert.equal(child.state(), 'T');
    applying.kill('SIGKILL');
    await new Promise((resolve) => applying.once('exit', resolve));
    const resume = await procguard(['resume', '--all', '-c', file, '--wait', '5s']);
    assert.equal(resume.code, 0, resume.stderr);
    await eventually(() => child.state() !== 'T', 3000, 'the child resumed');
  });

  it('sets oom_score_adj on a real child, and does not rewrite it when already equal', async () => {
    const child = await spawnChild('sh', ['-c', 'exec sleep 4244']);
    const file = await policies(`
policies:
  - { name: sleeper-oom, kind: oom, match: { cmdline: "^sleep 4244" }, oom_score_adj: 321 }
`);
    const first = await apply(file);
    assert.deepEqual(
      first.plan.actions.map((a) => [a.action, a.value, a.status, a.result]),
      [['set_oom_score_adj', 321, 'done', `oom_score_adj of pid ${child.pid}: 0 → 321`]],
    );
    assert.equal(await readFile(`/proc/${child.pid}/oom_score_adj`, 'utf8'), '321\n');
    const second = await apply(file);
    assert.equal(second.run.code, 0);
    assert.deepEqual(second.plan.actions, []);
    assert.deepEqual(
      (await audit()).map((e) => e.action),
      ['set_oom_score_adj'],
    );
  });

  it('a state file naming a pid whose start time changed: nothing is signalled, by apply or by resume --all', async () => {
    const child = await spawnChild('sh', ['-c', 'exec sleep 4245']);
    process.kill(child.pid, 'SIGSTOP'); // stopped by someone else, not by procguard
    await eventually(() => child.state() === 'T');
    const file = await policies(`
policies:
  - { name: sleeper-backoff, kind: load, match: { cmdline: "^sleep 4245" }, pause_above: 4.0 }
`);
    const stale = { pid: child.pid, start_time: child.start_time - 3600 };
    await mkdir(join(work, 'state'));
    await writeFile(
      join(work, 'state', 'state.json'),
      JSON.stringify({ version: 1, targets: {}, paused: [{ policy: 'sleeper-backoff', root: { ...stale, name: 'sleep' }, processes: [stale], since: Math.floor(child.start_time) - 3000 }] }),
    );
    const { plan } = await apply(file);
    assert.deepEqual(plan.actions, []);
    assert.match(plan.warnings?.join('\n') ?? '', new RegExp(`pid ${child.pid}`));
    assert.equal(child.state(), 'T');
    await writeFile(
      join(work, 'state', 'state.json'),
      JSON.stringify({ version: 1, targets: {}, paused: [{ policy: 'sleeper-backoff', root: { ...stale, name: 'sleep' }, processes: [stale], since: Math.floor(child.start_time) - 3000 }] }),
    );
    const resume = await procguard(['resume', '--all', '-c', file]);
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stdout, new RegExp(`^skipped: sleep \\(pid ${child.pid}, paused by sleeper-backoff\\): pid ${child.pid} is now another process`));
    assert.equal(child.state(), 'T', 'never resumed: procguard did not pause it');
  });

  for (const resumer of ['apply', 'resume --all'] as const) {
    it(`a state written by an earlier release (start times in whole seconds): ${resumer} resumes the process it paused`, async () => {
      const child = await spawnChild('sh', ['-c', `exec sleep ${resumer === 'apply' ? 4248 : 4249}`]);
      process.kill(child.pid, 'SIGSTOP'); // as the earlier release paused it
      await eventually(() => child.state() === 'T');
      const file = await policies(`
policies:
  - { name: sleeper-backoff, kind: load, match: { cmdline: "^sleep 424[89]" }, pause_above: 4.0 }
`);
      const paused = { pid: child.pid, start_time: Math.floor(child.start_time) };
      await mkdir(join(work, 'state'));
      await writeFile(
        join(work, 'state', 'state.json'),
        JSON.stringify({ version: 1, targets: {}, paused: [{ policy: 'sleeper-backoff', root: { ...paused, name: 'sleep' }, processes: [paused], since: paused.start_time }] }),
      );
      if (resumer === 'apply') {
        await setLoad(1);
        const { plan } = await apply(file);
        assert.deepEqual(
          plan.actions.map((a) => [a.action, a.target.pid, a.status]),
          [['resume', child.pid, 'done']],
        );
      } else {
        const resume = await procguard(['resume', '--all', '-c', file]);
        assert.equal(resume.code, 0, resume.stderr);
        assert.match(resume.stdout, new RegExp(`^resumed: sleep \\(pid ${child.pid}, paused by sleeper-backoff\\)`), resume.stdout);
      }
      await eventually(() => child.state() !== 'T', 3000, 'the child resumed');
      const saved = JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8')) as { start_times?: string; paused: unknown[] };
      assert.deepEqual([saved.start_times, saved.paused], ['ticks', []]);
    });
  }

  it("two applies at once do not both act: the second waits for the lock and sees the first one's state", async () => {
    const before = await info('hog');
    const file = await policies(`
policies:
  - { name: hog-memory, kind: memory, match: { program: hog }, max_rss: 50MB, max_actions: { count: 1, within: 1h } }
`);
    const [a, b] = await Promise.all([apply(file), apply(file)]);
    assert.deepEqual([a.run.code, b.run.code], [0, 0]);
    const statuses = [a, b].map((r) => r.plan.actions.map((x) => x.status).join()).sort();
    assert.deepEqual(statuses, ['done', 'skipped']);
    const restarts = (await audit()).filter((e) => e.action === 'restart' && e.status === 'done');
    assert.equal(restarts.length, 1);
    assert.notEqual((await info('hog')).pid, before.pid);
  });

  it('a run that finds the lock held past --wait exits 3 naming the holder, and does nothing', async () => {
    const before = await info('hog');
    const file = await policies(HOG_OVER_50MB);
    const lock = await acquireLock(join(work, 'state'), { wait: 0 });
    try {
      const run = await procguard(['apply', '-c', file, '--wait', '1s']);
      assert.equal(run.code, 3);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, new RegExp(`^procguard: ${join(work, 'state', 'lock')} is held by procguard pid ${process.pid} \\(holding it since .+\\); waited 1s, nothing was done\\n$`));
    } finally {
      await lock.release();
    }
    assert.equal((await info('hog')).pid, before.pid);
  });

  it('apply --dry-run acts on nothing and writes no state', async () => {
    const before = await info('hog');
    const file = await policies(HOG_OVER_50MB);
    const run = await procguard(['apply', '--dry-run', '-c', file]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /restart +hog:hog \(pid \d+\) +hog-memory +planned/);
    assert.match(run.stdout, /\(dry run: nothing was done\)\n$/);
    assert.equal((await info('hog')).pid, before.pid);
    await assert.rejects(readFile(join(work, 'state', 'state.json')), /ENOENT/);
  });

  it('a supervisord stopped mid-suite: exit 3 naming it, while the other policies still act', async () => {
    const other = await startSupervisord('[program:napper]\ncommand=sleep 1000\nstartsecs=0\n');
    const child = await spawnChild('sh', ['-c', 'exec sleep 4246']);
    const file = await policies(`
  other: { url: "${other.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }
policies:
  - { name: napper-memory, kind: memory, match: { supervisor: other, program: napper }, max_rss: 1KB }
  - { name: sleeper-oom, kind: oom, match: { cmdline: "^sleep 4246" }, oom_score_adj: 123 }
`);
    await other.stop();
    const { run, plan } = await apply(file);
    assert.equal(run.code, 3);
    assert.deepEqual(
      plan.errors.map((e) => e.source),
      ['supervisor:other'],
    );
    assert.match(plan.errors[0]?.message ?? '', /ENOENT|ECONNREFUSED/);
    assert.deepEqual(
      plan.actions.map((a) => [a.policy, a.status]),
      [['sleeper-oom', 'done']],
    );
    assert.equal(await readFile(`/proc/${child.pid}/oom_score_adj`, 'utf8'), '123\n');
  });
});
