// Nothing procguard paused is left stopped: real children paused by a real `apply` or `run`
// cycle at a load the test writes to a file, then the configuration changed under them, the
// state file broken, or a notification that never finishes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../src/data/types.js';
import { logText } from '../helpers/log-events.js';
import { eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { BIN, runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';

/** Part of every test child's command line: the policies must match this run's children and nothing else on the host. */
const RUN = `${process.pid}${Math.floor(Math.random() * 1e6)}`;

interface Daemon {
  process: ChildProcess;
  log(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('integration: nothing procguard paused is left stopped', function () {
  this.timeout(60000);
  let work: string;
  let confDir: string;
  let loadFile: string;
  const daemons: Daemon[] = [];

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-stopped-'));
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
  const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', TZ: 'UTC', PROCGUARD_LOADAVG: loadFile });
  const stateFile = (): string => join(work, 'state', 'state.json');
  const readState = async (): Promise<{ paused: Array<{ policy: string; processes: Array<{ pid: number }> }> }> => JSON.parse(await readFile(stateFile(), 'utf8'));

  async function configure(policies: string, extra = ''): Promise<string> {
    const file = join(confDir, 'policies.yaml');
    await writeFile(file, `settings:\n  state_dir: ${join(work, 'state')}\n${extra}policies:\n${policies}`);
    return file;
  }

  const procguard = (args: string[]): Promise<CliRun> => runProcguard(args, { env: env() });

  async function apply(): Promise<Plan> {
    const run = await procguard(['apply', '-c', confDir, '--json']);
    assert.doesNotMatch(run.stderr, STACK_TRACE);
    return JSON.parse(run.stdout) as Plan;
  }

  /** A sleep of a length no other process on the host uses, paused by a real apply at load 5. */
  async function pausedByApply(seconds: number): Promise<Child> {
    const child = await spawnChild('sh', ['-c', `exec sleep ${seconds}.${RUN}`]);
    await configure(`  - { name: backoff, kind: load, match: { cmdline: "^sleep ${seconds}[.]${RUN}$" }, pause_above: 4.0, resume_below: 2.0 }\n`);
    await setLoad(5);
    const plan = await apply();
    assert.deepEqual(
      plan.actions.map((a) => [a.action, a.status, a.target.pid]),
      [['pause', 'done', child.pid]],
    );
    await eventually(() => child.state() === 'T', 3000, 'the child stopped');
    return child;
  }

  function startDaemon(): Daemon {
    const child = spawn(process.execPath, [BIN, 'run', '-c', confDir, '--interval', '1s'], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const daemon = { process: child, log: () => logText(stderr), exited };
    daemons.push(daemon);
    return daemon;
  }

  describe('a paused tree whose policy is no longer a load policy', () => {
    const changes = [
      { what: 'removed', policies: '  - { name: other, kind: oom, match: { name: nothing-at-all }, oom_score_adj: 0 }\n', reason: 'policy "backoff" is no longer configured' },
      {
        what: 'renamed',
        policies: (s: number) => `  - { name: backoff-2, kind: load, match: { cmdline: "^sleep ${s}-never$" }, pause_above: 4.0 }\n`,
        reason: 'policy "backoff" is no longer configured',
      },
      {
        what: 'now kind runtime',
        policies: (s: number) => `  - { name: backoff, kind: runtime, match: { cmdline: "^sleep ${s}[.]${RUN}$" }, max_runtime: 6h, action: kill }\n`,
        reason: 'policy "backoff" is no longer a load policy (now kind runtime)',
      },
      {
        what: 'now kind memory',
        policies: (s: number) => `  - { name: backoff, kind: memory, match: { cmdline: "^sleep ${s}[.]${RUN}$" }, max_rss: 1GB, action: kill }\n`,
        reason: 'policy "backoff" is no longer a load policy (now kind memory)',
      },
      { what: 'now kind oom', policies: '  - { name: backoff, kind: oom, match: { name: nothing-at-all }, oom_score_adj: 0 }\n', reason: 'policy "backoff" is no longer a load policy (now kind oom)' },
    ];
    changes.forEach((change, index) => {
      it(`${change.what}: the next apply resumes it, while the load is still high, and forgets it only then`, async () => {
        const seconds = 4301 + index;
        const child = await pausedByApply(seconds);
        await configure(typeof change.policies === 'string' ? change.policies : change.policies(seconds));
        const plan = await apply();
        assert.deepEqual(
          plan.actions.map((a) => [a.action, a.status, a.target.pid, a.reason]),
          [['resume', 'done', child.pid, change.reason]],
        );
        await eventually(() => child.state() !== 'T', 3000, 'the child running again');
        assert.deepEqual((await readState()).paused, []);
      });
    });

    it('run: an edit that makes the policy kind memory resumes the tree on the next cycle after the reload', async () => {
      const child = await spawnChild('sh', ['-c', `exec sleep 4312.${RUN}`]);
      await configure(`  - { name: backoff, kind: load, match: { cmdline: "^sleep 4312[.]${RUN}$" }, pause_above: 4.0, resume_below: 2.0 }\n`);
      await setLoad(5);
      const daemon = startDaemon();
      await eventually(() => child.state() === 'T', 10000, 'the child paused by the daemon');
      await configure(`  - { name: backoff, kind: memory, match: { cmdline: "^sleep 4312[.]${RUN}$" }, max_rss: 1GB }\n`);
      await eventually(() => child.state() === 'S', 10000, 'the child resumed after the reload');
      assert.match(daemon.log(), /reloaded; .*changed \(cycle counts start afresh, actions taken still count\): backoff/);
      // The line is logged once the cycle has finished, a moment after its SIGCONT.
      const resumed = new RegExp(`resume sleep \\(pid ${child.pid}\\) by backoff: done: policy "backoff" is no longer a load policy \\(now kind memory\\)`);
      await eventually(() => resumed.test(daemon.log()), 10000, 'the resume logged');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(child.state(), 'S', 'not paused again');
      daemon.process.kill('SIGTERM');
      assert.equal((await daemon.exited).code, 0);
      assert.deepEqual((await readState()).paused, []);
      assert.doesNotMatch(daemon.log(), STACK_TRACE);
    });
  });

  describe('a corrupt state file', () => {
    async function twoPaused(): Promise<Child[]> {
      const children = [await spawnChild('sh', ['-c', `exec sleep 4321.${RUN}`]), await spawnChild('sh', ['-c', `exec sleep 4322.${RUN}`])];
      await configure(`  - { name: backoff, kind: load, match: { cmdline: "^sleep 432[12][.]${RUN}$" }, pause_above: 4.0, resume_below: 2.0 }\n`);
      await setLoad(5);
      const plan = await apply();
      assert.deepEqual(
        plan.actions.map((a) => [a.action, a.status]),
        [
          ['pause', 'done'],
          ['pause', 'done'],
        ],
      );
      for (const child of children) await eventually(() => child.state() === 'T', 3000, `pid ${child.pid} stopped`);
      return children;
    }

    it('state.json truncated mid-way: the next apply resumes every paused process; replaced by garbage: resume --all does', async () => {
      const children = await twoPaused();
      const whole = await readFile(stateFile(), 'utf8');
      await writeFile(stateFile(), whole.slice(0, Math.floor(whole.length / 2)));
      await setLoad(1);
      const run = await procguard(['apply', '-c', confDir, '--json']);
      assert.doesNotMatch(run.stderr, STACK_TRACE);
      assert.match(run.stderr, /state\.json is corrupt .*moved aside/);
      assert.match(run.stderr, /the pause journal names 2 paused processes the state file does not/);
      const plan = JSON.parse(run.stdout) as Plan;
      assert.deepEqual(plan.actions.map((a) => [a.action, a.status, a.target.pid]).sort(), children.map((c) => ['resume', 'done', c.pid]).sort());
      for (const child of children) await eventually(() => child.state() === 'S', 3000, `pid ${child.pid} resumed`);

      await setLoad(5);
      await apply();
      for (const child of children) await eventually(() => child.state() === 'T', 3000, `pid ${child.pid} paused again`);
      await writeFile(stateFile(), Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 10]));
      const resume = await procguard(['resume', '--all', '-c', confDir]);
      assert.equal(resume.code, 0, resume.stderr);
      for (const child of children) assert.match(resume.stdout, new RegExp(`resumed: sleep \\(pid ${child.pid}, paused by backoff\\)`));
      for (const child of children) await eventually(() => child.state() === 'S', 3000, `pid ${child.pid} resumed by resume --all`);
      assert.equal((await procguard(['resume', '--all', '-c', confDir])).stdout, 'Nothing is paused.\n');
    });
  });

  describe('a notification can never hold a cycle', () => {
    /** An SMTP server that greets, then answers every command with one `250-` line a second, for ever. */
    interface Trickler {
      url: string;
      /** Connections open now. */
      open: Set<Socket>;
      /** Connections ever accepted. */
      accepted: number;
      /** Continuation lines written so far. */
      lines: number;
      close(): Promise<void>;
    }
    let trickler: Trickler | undefined;
    afterEach(async () => {
      await trickler?.close();
      trickler = undefined;
    });

    async function startTrickler(): Promise<Trickler> {
      const open = new Set<Socket>();
      const timers = new Set<NodeJS.Timeout>();
      const state = { accepted: 0, lines: 0 };
      const server: Server = createServer((socket) => {
        state.accepted += 1;
        open.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => open.delete(socket));
        socket.write('220 trickle.example ESMTP\r\n');
        socket.once('data', () => {
          const timer = setInterval(() => {
            state.lines += 1;
            socket.write(`250-still thinking ${state.lines}\r\n`);
          }, 1000);
          timers.add(timer);
          socket.on('close', () => clearInterval(timer));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      return {
        url: `smtp://127.0.0.1:${port}`,
        open,
        get accepted() {
          return state.accepted;
        },
        get lines() {
          return state.lines;
        },
        close: async () => {
          for (const timer of timers) clearInterval(timer);
          for (const socket of open) socket.destroy();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    }

    const mailTo = (t: Trickler, timeout: string): string => `notifiers:\n  ops: { mail: { to: [ops@example.com], smtp: "${t.url}" }, timeout: ${timeout} }\n`;

    it('apply: the pause and the resume are carried out, the mail is cut at its timeout and kept to retry, the connection is closed', async () => {
      trickler = await startTrickler();
      const child = await spawnChild('sh', ['-c', `exec sleep 4331.${RUN}`]);
      await configure(`  - { name: backoff, kind: load, match: { cmdline: "^sleep 4331[.]${RUN}$" }, pause_above: 4.0, resume_below: 2.0, notify: [ { to: ops } ] }\n`, mailTo(trickler, '2s'));
      await setLoad(5);
      let started = Date.now();
      let plan = await apply();
      assert.ok(Date.now() - started < 8000, `apply took ${Date.now() - started} ms`);
      assert.deepEqual(
        plan.actions.map((a) => [a.action, a.status]),
        [['pause', 'done']],
      );
      assert.equal(child.state(), 'T');
      assert.deepEqual(
        plan.notifications.map((n) => [n.status, n.error]),
        [['failed', 'mail to ops@example.com failed: the SMTP server 127.0.0.1:' + new URL(trickler.url).port + ' did not finish within 2s; cut short']],
      );
      assert.ok(trickler.lines >= 1, 'the server was trickling');
      await eventually(() => trickler!.open.size === 0, 5000, 'the connection closed');

      await setLoad(1);
      started = Date.now();
      plan = await apply();
      // The new mail and the retry of the first: side by side in time, each cut at its timeout.
      assert.ok(Date.now() - started < 12000, `apply took ${Date.now() - started} ms`);
      assert.deepEqual(
        plan.actions.map((a) => [a.action, a.status]),
        [['resume', 'done']],
      );
      await eventually(() => child.state() === 'S', 3000, 'the child resumed');
      assert.ok(plan.notifications.length >= 1 && plan.notifications.every((n) => n.status === 'failed'), JSON.stringify(plan.notifications));
      const state = JSON.parse(await readFile(stateFile(), 'utf8')) as { paused: unknown[]; pending?: unknown[] };
      assert.deepEqual(state.paused, []);
      assert.equal(state.pending?.length, 2, 'both mails wait for the server');
      await eventually(() => trickler!.open.size === 0, 5000, 'the connections closed');
    });

    it('run: SIGTERM during a mail that trickles for ever resumes the paused process and exits at once, far inside the timeout', async () => {
      trickler = await startTrickler();
      const child = await spawnChild('sh', ['-c', `exec sleep 4332.${RUN}`]);
      await configure(`  - { name: backoff, kind: load, match: { cmdline: "^sleep 4332[.]${RUN}$" }, pause_above: 4.0, resume_below: 2.0, notify: [ { to: ops } ] }\n`, mailTo(trickler, '120s'));
      await setLoad(5);
      const daemon = startDaemon();
      await eventually(() => child.state() === 'T', 10000, 'the child paused by the daemon');
      await eventually(() => trickler!.lines >= 2, 10000, 'the mail trickling');
      const signalled = Date.now();
      daemon.process.kill('SIGTERM');
      const { code } = await daemon.exited;
      const took = Date.now() - signalled;
      assert.ok(took < 5000, `exited ${took} ms after SIGTERM`);
      assert.equal(code, 0, daemon.log());
      assert.equal(child.state(), 'S', 'resumed at stop');
      assert.match(daemon.log(), /notify ops for backoff: failed: .* was cut short: procguard is stopping/);
      assert.match(daemon.log(), new RegExp(`stop: resumed: sleep \\(pid ${child.pid}, paused by backoff\\)`));
      assert.deepEqual((await readState()).paused, []);
      await eventually(() => trickler!.open.size === 0, 5000, 'the connection closed');
    });

    it('run: without SIGTERM, each cycle ends at the timeout, so the load falling resumes the process on time', async () => {
      trickler = await startTrickler();
      const child = await spawnChild('sh', ['-c', `exec sleep 4333.${RUN}`]);
      await configure(`  - { name: backoff, kind: load, match: { cmdline: "^sleep 4333[.]${RUN}$" }, pause_above: 4.0, resume_below: 2.0, notify: [ { to: ops } ] }\n`, mailTo(trickler, '2s'));
      await setLoad(5);
      const daemon = startDaemon();
      await eventually(() => child.state() === 'T', 10000, 'the child paused by the daemon');
      await setLoad(1);
      await eventually(() => child.state() === 'S', 10000, 'the child resumed while the mails trickle');
      assert.match(daemon.log(), /notify ops for backoff: failed: .*did not finish within 2s; cut short/);
      daemon.process.kill('SIGTERM');
      const signalled = Date.now();
      assert.equal((await daemon.exited).code, 0);
      assert.ok(Date.now() - signalled < 5000, 'exits promptly');
    });
  });
  describe('a notifier whose grandchild holds its output', () => {
    /** Pids of the processes whose argv is exactly `sleep <arg>`: the grandchildren this test planted, and nothing else. */
    async function sleepsWith(arg: string): Promise<number[]> {
      const found: number[] = [];
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
        if (argv === `sleep\0${arg}\0`) found.push(Number(entry));
      }
      return found;
    }
    const planted: string[] = [];
    afterEach(async () => {
      for (const arg of planted.splice(0)) {
        for (const pid of await sleepsWith(arg)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
      }
    });

    /** A script that ignores SIGTERM, leaves a grandchild in a session of its own holding its stdout and stderr, and outlives the timeout. */
    async function stubbornScript(arg: string): Promise<string> {
      planted.push(arg);
      const path = join(work, `stubborn-${arg}.sh`);
      await writeFile(path, `#!/bin/bash\ntrap '' TERM\nsetsid bash -c 'trap "" TERM; exec sleep ${arg}' &\ncat > /dev/null\nsleep 60\n`, { mode: 0o755 });
      return path;
    }

    /** apply, given at most `ms` to exit: the exit code, or null when it had to be killed. */
    function applyWithin(ms: number): Promise<{ code: number | null; stdout: string; stderr: string; took: number }> {
      return new Promise((resolve) => {
        const started = Date.now();
        const child = spawn(process.execPath, [BIN, 'apply', '-c', confDir, '--json'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        let killed = false;
        const timer = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, ms);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code: killed ? null : code, stdout, stderr, took: Date.now() - started });
        });
      });
    }

    it('apply exits when an exec notifier succeeds at once but leaves a grandchild holding its stdout and stderr', async () => {
      const arg = `4353.${RUN}`;
      planted.push(`${arg}9`);
      const script = join(work, 'quick.sh');
      await writeFile(script, `#!/bin/bash\nsetsid bash -c 'exec sleep ${arg}9' &\necho paged\n`, { mode: 0o755 });
      const child = await spawnChild('sh', ['-c', `exec sleep ${arg}`]);
      await configure(
        `  - { name: backoff, kind: load, match: { cmdline: "^sleep ${arg.replace('.', '[.]')}$" }, pause_above: 4.0, resume_below: 2.0, notify: [ { to: pager } ] }\n`,
        `notifiers:\n  pager: { exec: ["${script}"], timeout: 30s }\n`,
      );
      await setLoad(5);
      const run = await applyWithin(20000);
      assert.equal(run.code, 0, `apply: ${run.code === null ? 'did not exit within 20 s' : run.stderr}`);
      const plan = JSON.parse(run.stdout) as Plan;
      assert.deepEqual(
        plan.actions.map((a) => [a.action, a.status, a.target.pid]),
        [['pause', 'done', child.pid]],
      );
      assert.deepEqual(
        plan.notifications.map((n) => n.status),
        ['done'],
      );
      assert.match(run.stderr, /said: paged/);
      assert.ok(run.took < 15000, `apply took ${run.took} ms, not the notifier's 30 s timeout`);
      await eventually(async () => (await sleepsWith(`${arg}9`)).length === 1, 3000, 'the grandchild running');
    });

    const notifiers: Array<[string, (script: string) => string, RegExp]> = [
      ['exec', (script) => `notifiers:\n  pager: { exec: ["${script}"], timeout: 3s }\n`, /did not finish within 3s; killed/],
      ['sendmail', (script) => `notifiers:\n  pager: { mail: { to: [ops@example.com], sendmail: "${script} -t -i" }, timeout: 3s }\n`, /did not finish within 3s; cut short/],
    ];
    for (const [kind, notifier, cut] of notifiers) {
      it(`apply exits at the ${kind} notifier's timeout, though a grandchild that ignores SIGTERM still holds the notifier's stdout and stderr`, async () => {
        const arg = `${kind === 'exec' ? 4351 : 4352}.${RUN}`;
        const script = await stubbornScript(`${arg}9`);
        const child = await spawnChild('sh', ['-c', `exec sleep ${arg}`]);
        await configure(
          `  - { name: backoff, kind: load, match: { cmdline: "^sleep ${arg.replace('.', '[.]')}$" }, pause_above: 4.0, resume_below: 2.0, notify: [ { to: pager } ] }\n`,
          notifier(script),
        );
        await setLoad(5);
        const run = await applyWithin(20000);
        assert.notEqual(run.code, null, `apply did not exit within 20 s: ${run.stderr}`);
        // 3: a notifier failed (README.md, "The command line": apply exits 3 when an action or notification failed).
        assert.equal(run.code, 3, run.stderr);
        assert.doesNotMatch(run.stderr, STACK_TRACE);
        const plan = JSON.parse(run.stdout) as Plan;
        assert.deepEqual(
          plan.actions.map((a) => [a.action, a.status, a.target.pid]),
          [['pause', 'done', child.pid]],
        );
        assert.equal(child.state(), 'T');
        assert.deepEqual(
          plan.notifications.map((n) => n.status),
          ['failed'],
        );
        assert.match(plan.notifications[0]?.error ?? '', cut);
        assert.equal((await sleepsWith(`${arg}9`)).length, 1, 'the grandchild was still there when apply exited');
      });
    }
  });
});
