// The signal and oom adapters against real child processes: a paused tree is really stopped
// (state T) and resumed, kill escalates to SIGKILL after the grace period, oom_score_adj is
// really written, and a pid whose start time differs from the snapshot's is never touched.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveDeps } from '../../src/actions/deps.js';
import { adapter as oom } from '../../src/actions/oom/oom.js';
import { adapter as signal } from '../../src/actions/signal/signal.js';
import type { AdapterDeps, Outcome } from '../../src/actions/types.js';
import { readProcessState, readStartTime } from '../../src/host/proc.js';
import type { PlannedAction } from '../../src/data/types.js';
import { childPids, eventually, killAllChildren, spawnChild, type Child } from '../helpers/processes.js';

const logged: string[] = [];
const deps: AdapterDeps = liveDeps([], {}, (line) => logged.push(line));

function action(name: PlannedAction['action'], child: { pid: number; start_time: number }, extra: Partial<PlannedAction> = {}): PlannedAction {
  return { policy: 'p', kind: 'load', action: name, mode: 'enforce', target: { pid: child.pid, start_time: child.start_time, name: 'sleep' }, reason: 'test', status: 'planned', ...extra };
}

const run = (a: PlannedAction, adapter = signal): Promise<Outcome> => adapter.execute({ type: 'action', action: a }, deps);

/** The child's shell has set its trap: it touched DIR/ready. */
const trapSet = (dir: string): Promise<void> =>
  eventually(
    async () =>
      await readFile(join(dir, 'ready')).then(
        () => true,
        () => false,
      ),
    3000,
    'the trap to be set',
  );

describe('signal adapter: real processes', function () {
  this.timeout(20000);
  afterEach(killAllChildren);

  it('pauses a whole process tree (every process in state T) and resumes it', async () => {
    const parent = await spawnChild('sh', ['-c', 'sleep 300 & sleep 301 & wait']);
    await eventually(() => childPids(parent.pid).length === 2, 5000, 'the two children');
    const kids = childPids(parent.pid);
    const tree = [parent, ...kids.map((pid) => ({ pid, start_time: readStartTime(pid)! }))];
    const paused = await run(action('pause', parent, { processes: tree.map(({ pid, start_time }) => ({ pid, start_time })) }));
    assert.equal(paused.status, 'done');
    assert.deepEqual(
      paused.status === 'done' && paused.processes?.map((p) => p.pid),
      tree.map((p) => p.pid),
    );
    await eventually(() => tree.every((p) => readProcessState(p.pid) === 'T'), 3000, 'every process stopped');
    const resumed = await run(action('resume', parent, { processes: tree.map(({ pid, start_time }) => ({ pid, start_time })) }));
    assert.equal(resumed.status, 'done');
    await eventually(() => tree.every((p) => readProcessState(p.pid) !== 'T'), 3000, 'every process running again');
  });

  it("skips, never signals, a pid whose start time is not the snapshot's (pid reuse)", async () => {
    const child = await spawnChild('sleep', ['302']);
    const reused = { pid: child.pid, start_time: child.start_time - 100 };
    const outcome = await run(action('pause', reused, { processes: [reused] }));
    assert.deepEqual(outcome, { status: 'skipped', reason: `pid ${child.pid} is now another process (started ${child.start_time}, not ${child.start_time - 100}); it was not signalled` });
    assert.notEqual(child.state(), 'T', 'not stopped');
    process.kill(child.pid, 'SIGSTOP');
    await eventually(() => child.state() === 'T');
    const resume = await run(action('resume', reused, { processes: [reused] }));
    assert.equal(resume.status, 'skipped');
    assert.equal(child.state(), 'T', 'a process procguard did not pause is not resumed');
    const kill = await run(action('kill', reused, { grace: 1 }));
    assert.equal(kill.status, 'skipped');
    assert.equal(child.state(), 'T');
  });

  it('skips a process that has exited', async () => {
    const child = await spawnChild('sleep', ['303']);
    const exited = new Promise((resolve) => child.process.once('exit', resolve));
    child.kill();
    await exited;
    const outcome = await run(action('kill', child, { grace: 1 }));
    assert.equal(outcome.status, 'skipped');
  });

  it('kill: TERM, and the process is done when it exits within the grace period', async () => {
    const child = await spawnChild('sleep', ['304']);
    const outcome = await run(action('kill', child, { grace: 5 }));
    assert.deepEqual(outcome, { status: 'done', detail: `pid ${child.pid} exited after SIGTERM` });
  });

  it('kill: a process that ignores TERM gets KILL after the grace period', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pg-term-'));
    const child = await spawnChild('sh', ['-c', `trap "" TERM; touch ${dir}/ready; while :; do sleep 0.1; done`]);
    await trapSet(dir);
    await rm(dir, { recursive: true, force: true });
    const started = Date.now();
    const outcome = await run(action('kill', child, { grace: 1 }));
    assert.deepEqual(outcome, { status: 'done', detail: `pid ${child.pid} ignored SIGTERM for 1s; killed with SIGKILL` });
    assert.ok(Date.now() - started >= 1000, 'the grace period was given');
  });

  it('kill: a paused process gets CONT with TERM, so that it can die', async () => {
    const child = await spawnChild('sleep', ['305']);
    process.kill(child.pid, 'SIGSTOP');
    await eventually(() => child.state() === 'T');
    const outcome = await run(action('kill', child, { grace: 3 }));
    assert.equal(outcome.status === 'done' && outcome.detail, `pid ${child.pid} exited after SIGTERM`);
  });

  it('signal: sends the named signal to a process no supervisord runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pg-sig-'));
    const marker = join(dir, 'hup');
    const child = await spawnChild('sh', ['-c', `trap 'echo got >> ${marker}' HUP; touch ${dir}/ready; while :; do sleep 0.1; done`]);
    await trapSet(dir);
    const outcome = await run(action('signal', child, { signal: 'HUP', kind: 'memory' }));
    assert.deepEqual(outcome, { status: 'done', detail: `sent SIGHUP to pid ${child.pid}` });
    await eventually(async () => (await readFile(marker, 'utf8').catch(() => '')).includes('got'), 3000, 'the trap to run');
    await rm(dir, { recursive: true, force: true });
  });
});

describe('oom adapter: a real process', function () {
  this.timeout(20000);
  let child: Child;
  beforeEach(async () => {
    child = await spawnChild('sleep', ['310']);
  });
  afterEach(killAllChildren);

  const oomAction = (value: number, target: { pid: number; start_time: number } = child): PlannedAction => ({ ...action('set_oom_score_adj', target), kind: 'oom', value });
  const current = (): Promise<string> => readFile(`/proc/${child.pid}/oom_score_adj`, 'utf8').then((t) => t.trim());

  it('writes /proc/PID/oom_score_adj, and says so when it already holds the value', async () => {
    assert.deepEqual(await run(oomAction(500), oom), { status: 'done', detail: `oom_score_adj of pid ${child.pid}: 0 → 500` });
    assert.equal(await current(), '500');
    assert.deepEqual(await run(oomAction(500), oom), { status: 'done', detail: `oom_score_adj of pid ${child.pid} is already 500` });
  });

  it('never writes to a reused pid', async () => {
    const outcome = await run(oomAction(700, { pid: child.pid, start_time: child.start_time + 5 }), oom);
    assert.equal(outcome.status, 'skipped');
    assert.equal(await current(), '0');
  });

  it('reports EACCES clearly when not permitted to lower the value', async function () {
    if (process.getuid?.() !== 0) {
      // Not root: lowering is refused to this very process.
      await run(oomAction(300), oom);
      const outcome = await run(oomAction(-500), oom);
      assert.equal(outcome.status, 'failed');
      assert.match(outcome.status === 'failed' ? outcome.error : '', /^EACCES: not permitted to write \/proc\/\d+\/oom_score_adj: lowering oom_score_adj needs CAP_SYS_RESOURCE, which is missing/);
      return;
    }
    // As root: a node process loads the adapter, drops to nobody, and acts on a process of nobody, as an unprivileged procguard would.
    const script = `
      const { adapter } = await import(${JSON.stringify(new URL('../../dist/actions/oom/oom.js', import.meta.url).href)});
      const { liveDeps } = await import(${JSON.stringify(new URL('../../dist/actions/deps.js', import.meta.url).href)});
      const { readStartTime } = await import(${JSON.stringify(new URL('../../dist/host/proc.js', import.meta.url).href)});
      const { spawn } = await import('node:child_process');
      process.setgid(65534);
      process.setuid(65534);
      const child = spawn('sleep', ['311'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 100));
      const deps = liveDeps([], {}, () => {});
      const target = { pid: child.pid, start_time: readStartTime(child.pid), name: 'sleep' };
      const outcome = await adapter.execute({ type: 'action', action: { policy: 'p', kind: 'oom', action: 'set_oom_score_adj', mode: 'enforce', value: -500, target, reason: 'r', status: 'planned' } }, deps);
      child.kill();
      process.stdout.write(JSON.stringify(outcome));
    `;
    const output = await new Promise<string>((resolve, reject) => {
      const node = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      node.stdout.on('data', (c: Buffer) => (out += c.toString()));
      node.stderr.on('data', (c: Buffer) => (err += c.toString()));
      node.on('error', reject);
      node.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
    });
    const outcome = JSON.parse(output) as Outcome;
    assert.equal(outcome.status, 'failed');
    assert.match(
      outcome.status === 'failed' ? outcome.error : '',
      /^EACCES: not permitted to write \/proc\/\d+\/oom_score_adj: lowering oom_score_adj needs CAP_SYS_RESOURCE, which is missing from procguard's effective capabilities \(CapEff 0000000000000000 in \/proc\/self\/status\)$/,
    );
  });

  it("names CAP_SYS_RESOURCE as /proc/self/status has it when lowering a real child's value", async () => {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? '';
    const outcome = await run(oomAction(-500), oom);
    if ((BigInt(`0x${capEff}`) >> 24n) & 1n) {
      // The capability is there (a privileged root): the write goes through.
      assert.deepEqual(outcome, { status: 'done', detail: `oom_score_adj of pid ${child.pid}: 0 → -500` });
      return;
    }
    assert.deepEqual(outcome, {
      status: 'failed',
      error: `EACCES: not permitted to write /proc/${child.pid}/oom_score_adj: lowering oom_score_adj needs CAP_SYS_RESOURCE, which is missing from procguard's effective capabilities (CapEff ${capEff} in /proc/self/status)`,
    });
    assert.equal(await current(), '0');
  });
});
