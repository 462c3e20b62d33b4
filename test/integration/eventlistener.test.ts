// procguard as a real supervisord's [eventlistener] on TICK_5: the memmon drop-in and
// `eventlistener -c` restart a program that really holds more memory than its cap, mail
// through a sendmail capture script that writes to its own stdout, and keep serving —
// supervisord's debug log shows every listener state change, so a stray byte on stdout
// (which would put the listener in UNKNOWN) or a crash (a new pid) cannot go unseen.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaptured, writeCaptureScript } from '../helpers/mail.js';
import { eventually } from '../helpers/processes.js';
import { logEvents, logText } from '../helpers/log-events.js';
import { BIN, STACK_TRACE } from '../helpers/run-cli.js';
import { HOG_COMMAND, PASSWORD, requireSupervisord, startSupervisord, USERNAME, writeFlakyProgram, type Supervisord } from '../helpers/supervisord.js';

interface ProcessInfo {
  pid: number;
  statename: string;
}

/** Two TICK_5 periods and the time a restart takes (startsecs=1). */
const TWO_TICKS_MS = 13000;

describe('integration: procguard as a supervisord event listener', function () {
  this.timeout(120000);
  let sv: Supervisord | undefined;
  let work: string;
  let capture: string;

  before(() => requireSupervisord());
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-listener-'));
    capture = await writeCaptureScript(work);
  });
  afterEach(async () => {
    await sv?.stop();
    sv = undefined;
    await rm(work, { recursive: true, force: true });
  });

  const info = async (name: string): Promise<ProcessInfo> => (await sv!.client.call('supervisor.getProcessInfo', [name])) as ProcessInfo;
  const listenerStderr = (): Promise<string> => readFile(join(work, 'listener.err'), 'utf8').catch(() => '');
  const listenerLog = async (): Promise<string> => logText(await listenerStderr());
  const supervisordLog = (): Promise<string> => readFile(sv!.log, 'utf8');

  /** supervisord with the hog, a flaky program and procguard as the listener `procguard` on TICK_5. */
  async function start(procguardArgs: string, extraPrograms = ''): Promise<{ listenerPid: number; hogPid: number }> {
    sv = await startSupervisord(
      `[program:hog]
command=${HOG_COMMAND}
startsecs=1
autorestart=true
${extraPrograms}
[eventlistener:procguard]
command=${process.execPath} ${BIN} ${procguardArgs}
events=TICK_5
stderr_logfile=${join(work, 'listener.err')}
environment=SUPERVISOR_USERNAME="${USERNAME}",SUPERVISOR_PASSWORD="${PASSWORD}",TZ="UTC"
`,
      { loglevel: 'debug' },
    );
    await eventually(async () => (await info('procguard')).statename === 'RUNNING' && (await info('hog')).statename === 'RUNNING', 10000, 'the listener and the hog RUNNING');
    return { listenerPid: (await info('procguard')).pid, hogPid: (await info('hog')).pid };
  }

  /** The listener never left the protocol, never crashed, and acknowledged at least `events` events. */
  async function assertStillServing(listenerPid: number, events: number): Promise<void> {
    const listener = await info('procguard');
    assert.equal(listener.statename, 'RUNNING');
    assert.equal(listener.pid, listenerPid, 'the listener was never respawned');
    const log = await supervisordLog();
    assert.doesNotMatch(log, /procguard: \w+ -> UNKNOWN|bad result line|has entered the UNKNOWN state/);
    const acknowledged = log.match(/procguard: BUSY -> ACKNOWLEDGED/g)?.length ?? 0;
    assert.ok(acknowledged >= events, `${acknowledged} events acknowledged, expected at least ${events}`);
    assert.doesNotMatch(await listenerLog(), STACK_TRACE);
  }

  async function restartsLogged(namespec: string): Promise<number> {
    return (await listenerLog()).split('\n').filter((line) => line.includes(`restart ${namespec} (pid`) && line.includes(': done:')).length;
  }

  /** Within two ticks, supervisord runs the hog again under a new pid. */
  const hogRestarted = (hogPid: number): Promise<void> =>
    eventually(
      async () => {
        const hog = await info('hog');
        return hog.pid !== hogPid && hog.statename === 'RUNNING';
      },
      TWO_TICKS_MS,
      'the hog restarted',
    );

  it('memmon -p hog=50MB: restarts the hog within two ticks, mails, and keeps acknowledging though sendmail writes to stdout', async () => {
    const { listenerPid, hogPid } = await start(`memmon -p hog=50MB -m ops@example.com -s ${capture}`);
    const began = Date.now();
    await hogRestarted(hogPid);
    assert.ok(Date.now() - began <= TWO_TICKS_MS);

    await eventually(async () => (await readCaptured(work)).length >= 1, 5000, 'the mail');
    const [mail] = await readCaptured(work);
    assert.equal(mail?.headers.get('subject'), 'memmon: process hog:hog restarted');
    assert.equal(mail?.headers.get('to'), 'ops@example.com');
    assert.ok(mail?.headers.get('from')?.startsWith('procguard@'));
    assert.ok(mail?.headers.has('date'));
    assert.match(mail?.body ?? '', /^memmon\.py restarted the process named hog:hog at \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} because it was consuming too much memory \(\d+ bytes RSS\)/);
    assert.ok(Number(/\((\d+) bytes RSS\)/.exec(mail?.body ?? '')?.[1]) > 50 * 1024 * 1024);

    // The restarted hog is over its cap again at once: later ticks restart it again, so the listener is still being served events.
    await eventually(async () => (await restartsLogged('hog:hog')) >= 2, TWO_TICKS_MS, 'a second restart on a later tick');
    await assertStillServing(listenerPid, 2);
    // The capture script's "message accepted" went to procguard, which logged nothing of it to stdout.
    assert.ok((await readCaptured(work)).length >= 2);
  });

  it('memmon: a restart whose start fails is logged and mailed, and the listener keeps serving', async () => {
    const flaky = await writeFlakyProgram(work);
    await flaky.broken(false);
    const { listenerPid } = await start(
      `memmon -p flaky=50MB -p hog=50MB -m ops@example.com -s ${capture}`,
      `\n[program:flaky]\ncommand=${flaky.script}\nstartsecs=1\nstartretries=0\nautorestart=false\n`,
    );
    await eventually(async () => (await info('flaky')).statename === 'RUNNING', 10000, 'flaky RUNNING');
    await flaky.broken(true);

    await eventually(async () => (await listenerLog()).includes('restart flaky:flaky'), TWO_TICKS_MS, 'the flaky restart');
    const log = await listenerLog();
    assert.match(
      log,
      /restart flaky:flaky \(pid \d+\) by memmon-program-flaky: failed: rss [\d.]+ MiB > 50\.0 MiB \(cycle 1 of 1\) → stopped flaky:flaky \(was pid \d+\) but could not start it again: supervisor "default": supervisor.startProcess failed: SPAWN_ERROR: flaky:flaky/,
    );
    // supervisord's log file gets JSON lines: one event per action, with its policy, target and reason.
    const failed = logEvents(await listenerStderr()).find((e) => e.event === 'action' && e.policy === 'memmon-program-flaky');
    assert.equal(failed?.level, 'error');
    assert.equal(failed?.name, 'procguard memmon');
    assert.equal(failed?.action, 'restart');
    assert.equal(failed?.status, 'failed');
    assert.match(String(failed?.reason), /^rss [\d.]+ MiB > 50\.0 MiB \(cycle 1 of 1\)$/);
    assert.match(String(failed?.error), /SPAWN_ERROR: flaky:flaky$/);
    assert.deepEqual({ ...(failed?.target as object), pid: 0, start_time: 0 }, { pid: 0, start_time: 0, name: 'node', supervisor: 'default', namespec: 'flaky:flaky' });
    await eventually(async () => (await readCaptured(work)).some((m) => m.headers.get('subject')?.includes('failed to restart process flaky:flaky')), 5000, 'the failure mail');
    const failure = (await readCaptured(work)).find((m) => m.headers.get('subject')?.includes('failed to restart process flaky:flaky'));
    assert.equal(failure?.headers.get('subject'), 'memmon: failed to restart process flaky:flaky');
    assert.match(
      failure?.body ?? '',
      /^Failed to restart process flaky:flaky \(RSS \d+\): stopped flaky:flaky \(was pid \d+\) but could not start it again: supervisor "default": supervisor.startProcess failed: SPAWN_ERROR/,
    );

    // Unlike memmon, which raised and died here, the next ticks are still served: the hog keeps being restarted.
    const restartsBefore = await restartsLogged('hog:hog');
    await eventually(async () => (await restartsLogged('hog:hog')) > restartsBefore, TWO_TICKS_MS, 'a hog restart after the failure');
    await assertStillServing(listenerPid, 2);
    assert.equal((await info('flaky')).pid, 0, 'the stopped flaky program is left alone, not acted on with pid 0');
  });

  it('memmon: a mail that cannot go (sendmail exits 75) is logged each time, and the listener keeps serving', async () => {
    const failing = await writeCaptureScript(work, { exitCode: 75 });
    const { listenerPid } = await start(`memmon -p hog=50MB -m ops@example.com -s ${failing}`);
    await eventually(async () => (await listenerLog()).includes('notify memmon-mail for memmon-program-hog: failed: memmon: process hog:hog restarted'), TWO_TICKS_MS, 'the failed mail logged');
    assert.match(await listenerLog(), /failed: memmon: process hog:hog restarted → mail to ops@example.com failed: Sendmail exited with code 75/);
    // The next tick restarts the hog again; its mail fails too and is logged too.
    const failedMails = async (): Promise<number> => (await listenerLog()).split('\n').filter((line) => line.includes('failed: memmon: process hog:hog restarted')).length;
    await eventually(async () => (await failedMails()) >= 2, TWO_TICKS_MS, 'a second failed mail on a later tick');
    assert.ok((await restartsLogged('hog:hog')) >= 2);
    await assertStillServing(listenerPid, 2);
  });

  it('eventlistener -c with a YAML policy: the same restart and mail, with its own subject template', async () => {
    const policies = join(work, 'policies.yaml');
    await writeFile(
      policies,
      `settings:
  name: web
  state_dir: ${join(work, 'state')}
notifiers:
  ops:
    mail:
      to: [ops@example.com]
      sendmail: ${capture} -t -i
      subject: "{{name}}: {{action}} {{target.namespec}} {{status}}"
policies:
  - { name: hog-memory, kind: memory, match: { program: hog }, max_rss: 50MB, notify: [ { to: ops } ] }
`,
    );
    const { listenerPid, hogPid } = await start(`eventlistener -c ${policies}`);
    await hogRestarted(hogPid);
    await eventually(async () => (await readCaptured(work)).length >= 1, 5000, 'the mail');
    const [mail] = await readCaptured(work);
    assert.equal(mail?.headers.get('subject'), 'web: restart hog:hog done');
    assert.deepEqual(mail?.args, ['-t', '-i'], 'sendmail gets -i once');
    // Everything went through the state directory: the audit log names the restart.
    const audited = async (): Promise<Array<{ action?: string; status: string }>> =>
      (await readFile(join(work, 'state', 'audit.log'), 'utf8').catch(() => ''))
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    await eventually(async () => (await audited()).some((e) => e.action === 'restart' && e.status === 'done'), 5000, 'the restart in the audit log');
    await eventually(async () => (await restartsLogged('hog:hog')) >= 2, TWO_TICKS_MS, 'a second restart on a later tick');
    await assertStillServing(listenerPid, 2);
  });
});
