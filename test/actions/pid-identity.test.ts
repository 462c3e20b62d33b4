// Pid identity to the clock tick, end to end: a snapshot is taken from a generated procfs tree,
// the engine plans on it, and before the adapters act the pid is given to another process that
// started within the same second (a later clock tick). Nothing is signalled or written, for
// every kind of signal procguard sends: SIGTERM, the SIGCONT after it, SIGKILL after grace,
// {signal: NAME}, SIGSTOP and SIGCONT of a pause and a resume, and oom_score_adj.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyEvaluation } from '../helpers/apply.js';
import type { AdapterDeps } from '../../src/actions/types.js';
import { fieldsNeeded } from '../../src/engine/fields-needed.js';
import { collectSnapshot } from '../../src/collectors/collect.js';
import { ProcfsCollector } from '../../src/collectors/procfs/procfs.js';
import { readStartTime } from '../../src/host/proc.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type EngineState, type Snapshot } from '../../src/data/types.js';
import type { PolicySet } from '../../src/policy/model.js';
import { BOOT_TIME, statLine, writeProcfsTree, type FakeProcess } from '../helpers/procfs-tree.js';
import { yaml } from '../helpers/policy-files.js';
import { policySetOf } from '../helpers/snapshots.js';

const PID = 4321;
/** 12.34 s after boot; the reused pid's process starts at 12.67 s: the same whole second. */
const FIRST_TICKS = 1234;
const REUSED_TICKS = 1267;

function worker(startTicks: number, extra: Partial<FakeProcess> = {}): FakeProcess {
  return { pid: PID, ppid: 1, comm: 'worker', rssPages: 10, startTicks, uid: 1000, argv: ['worker', '--serve'], oomScoreAdj: 0, ...extra };
}

const INIT: FakeProcess = { pid: 1, ppid: 0, comm: 'systemd', rssPages: 1, startTicks: 1, argv: ['/sbin/init'] };

interface Harness {
  root: string;
  sent: Array<[number, string]>;
  deps: AdapterDeps;
  /** Gives PID to a new process started at `ticks`. */
  reuse(ticks?: number): Promise<void>;
  snapshot(policySet: PolicySet, load?: number): Promise<Snapshot>;
}

async function harness(): Promise<Harness> {
  const root = await writeProcfsTree([INIT, worker(FIRST_TICKS)]);
  const sent: Array<[number, string]> = [];
  const h: Harness = {
    root,
    sent,
    deps: {
      env: {},
      now: () => BOOT_TIME + 3600,
      hostname: 'test',
      supervisor: () => Promise.reject(new Error('no supervisor here')),
      startTime: (pid) => readStartTime(pid, root),
      startTimeSlack: 0,
      // Signals are recorded, not sent (the pid is not a real process); SIGKILL leaves a zombie.
      kill: (pid, signal) => {
        sent.push([pid, String(signal)]);
        if (signal === 'SIGKILL') writeStatSync(root, worker(FIRST_TICKS, { state: 'Z' }));
      },
      sleep: async () => undefined,
      procRoot: root,
      log: () => undefined,
    },
    reuse: async (ticks = REUSED_TICKS) => {
      await writeProcfsTree([INIT, worker(ticks, { comm: 'intruder', argv: ['intruder'] })], root);
    },
    snapshot: async (policySet, load = 0.5) => {
      const loadavg = join(root, 'loadavg');
      await writeProcfsTree([INIT, worker(FIRST_TICKS)], root);
      await writeFile(loadavg, `${load.toFixed(2)} 0.40 0.30 1/100 12345\n`);
      return collectSnapshot(policySet, { secondPass: fieldsNeeded(policySet), env: {}, processTable: new ProcfsCollector({ root }), loadavgPath: loadavg, now: () => BOOT_TIME + 3600 });
    },
  };
  return h;
}

const CASES: Array<{ name: string; policy: string; load?: number; action: string; state?: (start: number) => EngineState }> = [
  { name: 'kill (SIGTERM, SIGCONT, SIGKILL after grace)', policy: '{ name: p, kind: runtime, match: { name: worker }, max_runtime: 60s, action: kill, grace: 1s }', action: 'kill' },
  { name: '{signal: HUP}', policy: '{ name: p, kind: runtime, match: { name: worker }, max_runtime: 60s, action: { signal: HUP } }', action: 'signal' },
  { name: 'pause (SIGSTOP)', policy: '{ name: p, kind: load, match: { name: worker }, pause_above: 4 }', load: 6, action: 'pause' },
  {
    name: 'resume (SIGCONT)',
    policy: '{ name: p, kind: load, match: { name: worker }, pause_above: 4 }',
    load: 1,
    action: 'resume',
    state: (start) => ({ ...emptyState(), paused: [{ policy: 'p', root: { pid: PID, start_time: start, name: 'worker' }, processes: [{ pid: PID, start_time: start }], since: BOOT_TIME + 3000 }] }),
  },
  { name: 'oom_score_adj', policy: '{ name: p, kind: oom, match: { name: worker }, oom_score_adj: 500 }', action: 'set_oom_score_adj' },
];

describe('pid identity to the clock tick', () => {
  const roots: string[] = [];
  after(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

  it('the snapshot keeps start_time to the clock tick: boot time + field 22 / USER_HZ', async () => {
    const h = await harness();
    roots.push(h.root);
    const snapshot = await h.snapshot(
      policySetOf(yaml`
      policies:
        - { name: p, kind: oom, match: { name: worker }, oom_score_adj: 500 }
    `),
    );
    assert.equal(snapshot.processes.find((p) => p.pid === PID)?.start_time, BOOT_TIME + 12.34);
    assert.equal(readStartTime(PID, h.root), BOOT_TIME + 12.34);
  });

  for (const c of CASES) {
    it(`${c.name}: a pid reused within the same second is not signalled; the same process is`, async () => {
      const h = await harness();
      roots.push(h.root);
      const policySet = policySetOf(`policies:\n  - ${c.policy}\n`);
      const snapshot = await h.snapshot(policySet, c.load);
      const start = snapshot.processes.find((p) => p.pid === PID)!.start_time!;
      const state = c.state?.(start) ?? emptyState();
      const plan = (): ReturnType<typeof evaluate> => evaluate(policySet, snapshot, state, snapshot.time);
      assert.deepEqual(
        plan().plan.actions.map((a) => [a.action, a.target.pid, a.status]),
        [[c.action, PID, 'planned']],
      );

      // Reused within the same second: nothing is sent, nothing written.
      await h.reuse();
      assert.equal(Math.floor(readStartTime(PID, h.root)!), Math.floor(start), 'the same whole second');
      const reused = await applyEvaluation(plan(), state, policySet, h.deps);
      const [action] = reused.plan.actions;
      assert.equal(action?.status, 'skipped', action?.error);
      assert.equal(
        action?.reason,
        `pid ${PID} is now another process (started ${BOOT_TIME + 12.67}, not ${BOOT_TIME + 12.34}); it was not ${c.action === 'set_oom_score_adj' ? 'changed' : 'signalled'}`,
      );
      assert.deepEqual([...h.sent], [], 'nothing was signalled');
      assert.equal(await readFile(join(h.root, String(PID), 'oom_score_adj'), 'utf8'), '0\n');

      // The same process (same tick): acted on.
      await h.reuse(FIRST_TICKS);
      const same = await applyEvaluation(plan(), state, policySet, h.deps);
      assert.equal(same.plan.actions[0]?.status, 'done', same.plan.actions[0]?.error);
      if (c.action === 'set_oom_score_adj') assert.equal(await readFile(join(h.root, String(PID), 'oom_score_adj'), 'utf8'), '500\n');
      else assert.ok(h.sent.length > 0 && h.sent.every(([pid]) => pid === PID));
    });
  }

  it('oom_score_adj: the file is opened before the check, so a pid reused right after the check is not written; the process checked is', async () => {
    const h = await harness();
    roots.push(h.root);
    const policySet = policySetOf(`policies:\n  - { name: p, kind: oom, match: { name: worker }, oom_score_adj: 500 }\n`);
    const snapshot = await h.snapshot(policySet);
    const state = emptyState();
    const plan = evaluate(policySet, snapshot, state, snapshot.time);
    const pidDir = join(h.root, String(PID));
    const file = join(pidDir, 'oom_score_adj');
    const gone = join(h.root, `${PID}.exited`);
    let openAtCheck: boolean | undefined;
    const deps: AdapterDeps = {
      ...h.deps,
      // The check: is the file open already? Then the pid goes to a new process at once, within
      // the same second (the old process's directory moved aside, as its open files keep it).
      startTime: (pid) => {
        const start = readStartTime(pid, h.root);
        if (openAtCheck === undefined) {
          openAtCheck = readdirSync('/proc/self/fd').some((fd) => {
            try {
              return readlinkSync(`/proc/self/fd/${fd}`) === file;
            } catch {
              return false;
            }
          });
          renameSync(pidDir, gone);
          mkdirSync(pidDir);
          writeFileSync(join(pidDir, 'stat'), statLine(worker(REUSED_TICKS, { comm: 'intruder' })));
          writeFileSync(join(pidDir, 'oom_score_adj'), '0\n');
        }
        return start;
      },
    };
    const result = await applyEvaluation(plan, state, policySet, deps);
    assert.equal(openAtCheck, true, 'oom_score_adj was open when the identity was checked');
    assert.equal(result.plan.actions[0]?.status, 'done', result.plan.actions[0]?.error);
    assert.equal(readFileSync(file, 'utf8'), '0\n', "the new process's oom_score_adj is untouched");
    assert.equal(readFileSync(join(gone, 'oom_score_adj'), 'utf8'), '500\n', 'the process checked got the value');
  });

  it('the engine: a paused pid whose process now started a tick later is not resumed, and says why', async () => {
    const h = await harness();
    roots.push(h.root);
    const policySet = policySetOf(yaml`
      policies:
        - { name: p, kind: load, match: { name: worker }, pause_above: 4 }
    `);
    const paused = { pid: PID, start_time: BOOT_TIME + 12.34 };
    const state: EngineState = { ...emptyState(), paused: [{ policy: 'p', root: { ...paused, name: 'worker' }, processes: [paused], since: BOOT_TIME + 3000 }] };
    await h.snapshot(policySet, 1);
    await h.reuse();
    const snapshot = await collectSnapshot(policySet, {
      secondPass: fieldsNeeded(policySet),
      env: {},
      processTable: new ProcfsCollector({ root: h.root }),
      loadavgPath: join(h.root, 'loadavg'),
      now: () => BOOT_TIME + 3600,
    });
    const { plan, state: next } = evaluate(policySet, snapshot, state, snapshot.time);
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.warnings, [`pid ${PID} paused by "p" now belongs to another process (intruder); it is not resumed`]);
    assert.deepEqual(next.paused, []);
  });

  /** A worker over a kill policy's max_runtime, with its plan: SIGTERM, then SIGKILL after a 1 s grace. */
  async function killPlanned() {
    const h = await harness();
    roots.push(h.root);
    const policySet = policySetOf(yaml`
      policies:
        - { name: p, kind: runtime, match: { name: worker }, max_runtime: 60s, action: kill, grace: 1s }
    `);
    const snapshot = await h.snapshot(policySet);
    return { h, policySet, evaluation: evaluate(policySet, snapshot, emptyState(), snapshot.time) };
  }

  it('kill: a pid reused after SIGTERM, within the same second, gets neither the SIGCONT nor the SIGKILL', async () => {
    const { h, policySet, evaluation } = await killPlanned();
    const kill = h.deps.kill;
    // The worker exits on SIGTERM and its pid goes at once to a process started 0.33 s after it:
    // the very next read of stat sees the new process.
    h.deps.kill = (pid, signal) => {
      kill(pid, signal);
      if (signal === 'SIGTERM') writeStatSync(h.root, worker(REUSED_TICKS, { comm: 'intruder' }));
    };
    const execution = await applyEvaluation(evaluation, emptyState(), policySet, h.deps);
    assert.deepEqual(h.sent, [[PID, 'SIGTERM']]);
    assert.deepEqual(
      execution.plan.actions.map((a) => [a.status, a.result]),
      [['done', `pid ${PID} exited after SIGTERM`]],
    );
  });

  it('kill: a process that outlives its grace is killed, each signal checked against its start tick', async () => {
    const { h, policySet, evaluation } = await killPlanned();
    const execution = await applyEvaluation(evaluation, emptyState(), policySet, h.deps);
    assert.deepEqual(h.sent, [
      [PID, 'SIGTERM'],
      [PID, 'SIGCONT'],
      [PID, 'SIGKILL'],
    ]);
    assert.equal(execution.plan.actions[0]?.status, 'done');
  });
});

function writeStatSync(root: string, process: FakeProcess): void {
  writeFileSync(join(root, String(process.pid), 'stat'), statLine(process));
}
