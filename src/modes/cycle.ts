// One acting cycle, shared by apply, the daemon, the event listener and the memmon drop-in:
// hold the state, collect a snapshot, evaluate, carry out the plan, keep the state and the
// audit entries. Where the state lives is a StateStore: STATE_DIR on disk (locked for the
// cycle) or, for the memmon drop-in, which has nothing to remember across restarts, memory.

import { stat } from 'node:fs/promises';
import { liveDeps } from '../actions/deps.js';
import { carryOut, runWork, type Execution } from '../actions/execute.js';
import type { AdapterDeps } from '../actions/types.js';
import { collectSnapshot } from '../collectors/collect.js';
import { emptyState, type AuditEntry, type EngineState, type Evaluation, type PausedTree, type PlannedAction, type RestartUnderWay, type Snapshot } from '../data/types.js';
import { fieldsNeeded } from '../engine/fields-needed.js';
import { evaluate } from '../engine/evaluate.js';
import { settle } from '../engine/settle.js';
import { withTickStartTimes } from '../engine/start-times.js';
import { localTimeZone } from '../host/time-zone.js';
import { PAUSING_KIND } from '../policy/kinds/index.js';
import { permissionProblem } from '../policy/load.js';
import type { PolicySet } from '../policy/model.js';
import { errorText } from '../shared/errors.js';
import { succeededText, timeText } from '../data/lasting.js';
import { problemLines, reportedKept } from '../data/standing.js';
import { formatDuration } from '../shared/units.js';
import { appendAudit } from '../state/audit-log.js';
import { acquireLock, LockBusyError } from '../state/lock.js';
import { appendPauses, treeKey } from '../state/pause-journal.js';
import { loadState, saveState, StateError, writeAheadState, type LoadedState } from '../state/state-file.js';
import { applyPoliciesToRestarted } from './after-restart.js';
import type { Log } from './log.js';

/** The cycle could not start (the lock stayed busy, the state is unreadable): nothing was done. */
export class CycleAborted extends Error {}

export interface StateStore {
  /** Where the state lives, for messages. */
  readonly where: string;
  /** Holds the state for one cycle; resolves to the release. Throws CycleAborted. */
  hold(): Promise<() => Promise<void>>;
  /** Throws CycleAborted. */
  load(now: number): Promise<LoadedState>;
  /** Throws StateError; the previous state is kept. */
  save(state: EngineState): Promise<void>;
  /** Records trees about to be paused, durably, before their SIGSTOP. Throws StateError. */
  recordPauses(trees: readonly PausedTree[]): Promise<void>;
  audit(entries: readonly AuditEntry[]): Promise<void>;
}

/** STATE_DIR: state.json, the lock (waited for `lockWait` seconds) and audit.log. */
export function diskStore(dir: string, lockWait: number): StateStore {
  return {
    where: dir,
    async hold() {
      const refusal = await stateDirectoryProblem(dir);
      if (refusal) throw new CycleAborted(refusal);
      try {
        const lock = await acquireLock(dir, { wait: lockWait });
        return () => lock.release();
      } catch (error) {
        if (error instanceof LockBusyError) throw new CycleAborted(error.message);
        const code = (error as NodeJS.ErrnoException).code;
        const why =
          code === 'EEXIST' || code === 'ENOTDIR'
            ? 'it is not a directory'
            : code === 'EACCES'
              ? 'permission denied (EACCES)'
              : code === 'ENOENT'
                ? 'it cannot be created there (ENOENT)'
                : (code ?? String(error));
        throw new CycleAborted(`cannot take the lock in the state directory ${dir}: ${why}; nothing was done`);
      }
    },
    async load(now) {
      try {
        return await loadState(dir, now);
      } catch (error) {
        if (error instanceof StateError) throw new CycleAborted(`${error.message}; nothing was done`);
        throw error;
      }
    },
    save: (state) => saveState(dir, state),
    async recordPauses(trees) {
      try {
        await appendPauses(dir, trees);
      } catch (error) {
        throw new StateError(`cannot append to the pause journal in ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    },
    async audit(entries) {
      try {
        await appendAudit(dir, entries);
      } catch (error) {
        throw new StateError(`cannot append to the audit log in ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    },
  };
}

/**
 * Running as root, the state directory says which processes procguard paused and will resume:
 * whoever can write there could have it resume (or not resume) anything, or plant links.
 * So it must be writable only by root or procguard's user. A missing one is created 0700.
 */
async function stateDirectoryProblem(dir: string): Promise<string | undefined> {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return undefined;
  const stats = await stat(dir).catch(() => undefined);
  if (!stats?.isDirectory()) return undefined; // created, or reported, by the lock
  const refusal = permissionProblem(dir, stats, uid, 'state directory');
  return refusal ? `${refusal}; nothing was done` : undefined;
}

/** The state in this process only: lost on exit, which is all memmon ever had. */
export function memoryStore(): StateStore {
  let state = emptyState();
  return {
    where: 'memory',
    hold: async () => async () => undefined,
    load: async () => ({ state: structuredClone(state), warnings: [] }),
    save: async (next) => {
      state = structuredClone(next);
    },
    recordPauses: async () => undefined,
    audit: async () => undefined,
  };
}

export interface CycleOptions {
  env: NodeJS.ProcessEnv;
  log: Log;
  /**
   * Policies that changed since the state was written: their cycle counts (`for`) start afresh,
   * since the condition they counted may be another; the actions they took on each target still
   * count for the flapping guard, which an edit must not reopen.
   */
  forget?: ReadonlySet<string>;
  /** Aborted when procguard is stopping: notifications under way are cut short so the cycle ends. */
  stopping?: AbortSignal;
}

/** What a changed policy forgets: how many cycles each target has been over the limit, nothing else. */
function forgetCounts(state: EngineState, policy: string): void {
  const targets = state.targets[policy];
  if (!targets) return;
  for (const [key, entry] of Object.entries(targets)) {
    delete entry.over;
    if (Object.keys(entry).length === 0) delete targets[key];
  }
  if (Object.keys(targets).length === 0) delete state.targets[policy];
}

export interface CycleResult {
  snapshot: Snapshot;
  evaluation: Evaluation;
  execution: Execution;
  /** The state kept for the next cycle. */
  state: EngineState;
  /** The state or the audit entries could not be written: why. */
  storeProblems: string[];
  /** The collector errors and warnings standing at the cycle before (problemLines' keys), which `apply --quiet` does not print again; none when not given. */
  reportedBefore?: string[];
}

/** Throws CycleAborted when the state cannot be held or read; everything after that is reported, not thrown. */
export async function runCycle(policySet: PolicySet, store: StateStore, options: CycleOptions): Promise<CycleResult> {
  const release = await store.hold();
  try {
    const loaded = await store.load(Math.floor(Date.now() / 1000));
    for (const warning of loaded.warnings) options.log(`warning: ${warning}`);
    const previous = loaded.state;
    for (const name of options.forget ?? []) forgetCounts(previous, name);

    const deps = liveDeps(policySet.supervisors, options.env, options.log, options.stopping);
    const interrupted = await finishInterruptedRestarts(previous.restarting ?? [], deps);
    delete previous.restarting;

    const snapshot = await collectSnapshot(policySet, { env: options.env, self: process.pid, secondPass: fieldsNeeded(policySet) });
    const evaluation = evaluate(policySet, snapshot, previous, snapshot.time, { timeZone: localTimeZone() });
    const restarts = restartsAhead(evaluation, snapshot.time);
    const pausing = evaluation.plan.actions.some((a) => a.action === 'pause' && a.status === 'planned');
    if (pausing || restarts.length > 0 || interrupted.kept.length > 0) {
      // Should this cycle die between a SIGSTOP and the final save, the next one (or resume --all)
      // still knows what it stopped; between a stopProcess and its startProcess, the next one starts it.
      try {
        if (pausing) {
          const before = new Set(previous.paused.map(treeKey));
          await store.recordPauses(evaluation.state.paused.filter((tree) => !before.has(treeKey(tree))));
        }
        await store.save(withRestarts(writeAheadState(evaluation.state, previous), [...interrupted.kept, ...restarts]));
      } catch (error) {
        const message = errorText(error);
        // A process must never be stopped without a record; a restart (memmon's job) still goes ahead.
        if (pausing) throw new CycleAborted(`${message}; nothing was done`);
        options.log(`warning: ${message}; restarting without a record, so a crash between stop and start would leave the program stopped`);
      }
    }
    let execution = await carryOut(evaluation.plan, policySet, deps, previous.pending ?? []);
    const state = settle(evaluation.state, previous, execution.plan.actions, execution.outcomes, execution.pending, snapshot.time);
    // A restarted program inherited supervisord's oom_score_adj: the oom policies apply to it now.
    execution = await applyPoliciesToRestarted(policySet, snapshot, execution, deps).catch((error: unknown) => {
      options.log(`warning: the oom policies could not be applied to the restarted programs: ${errorText(error)}; the next cycle will`);
      return execution;
    });
    execution = { ...execution, audit: [...interrupted.audit, ...execution.audit] };
    // A restart that failed may have stopped the program and not started it (supervisord died
    // between the two): it is finished like an interrupted one.
    const failed = restarts.filter((r) =>
      execution.plan.actions.some((a) => a.action === 'restart' && a.status === 'failed' && a.target.namespec === r.namespec && a.target.supervisor === r.supervisor),
    );
    withRestarts(state, [...interrupted.kept, ...failed]);
    const reportedBefore = previous.reported ?? [];
    const reported = reportedKept(problemLines(execution.plan).keys());
    if (reported.length > 0) state.reported = reported;
    else delete state.reported;
    const storeProblems: string[] = [];
    await store.save(state).catch((error: unknown) => storeProblems.push(errorText(error)));
    await store.audit(execution.audit).catch((error: unknown) => storeProblems.push(errorText(error)));
    return { snapshot, evaluation, execution, state, storeProblems, reportedBefore };
  } finally {
    await release();
  }
}

/** How long after it began a restart left half-done is still finished: past that, a stopped program is taken as the operator's choice. */
export const INTERRUPTED_RESTART_WINDOW = 3600;

function restartsAhead(evaluation: Evaluation, now: number): RestartUnderWay[] {
  return evaluation.plan.actions
    .filter((a) => a.action === 'restart' && a.status === 'planned' && a.target.supervisor !== undefined && a.target.namespec !== undefined)
    .map((a) => ({ policy: a.policy, supervisor: a.target.supervisor!, namespec: a.target.namespec!, name: a.target.name, pid: a.target.pid, since: now }));
}

function withRestarts(state: EngineState, restarts: readonly RestartUnderWay[]): EngineState {
  if (restarts.length > 0) state.restarting = [...restarts];
  else delete state.restarting;
  return state;
}

/**
 * Starts the programs a killed run stopped and did not start again. Those that cannot be
 * reached now are kept for the next cycle, within INTERRUPTED_RESTART_WINDOW. A failure is
 * logged and audited when it begins (or its error changes), counted while it lasts, and
 * reported again when it ends: done, or given up after the window.
 */
async function finishInterruptedRestarts(entries: readonly RestartUnderWay[], deps: AdapterDeps): Promise<{ kept: RestartUnderWay[]; audit: AuditEntry[] }> {
  const kept: RestartUnderWay[] = [];
  const audit: AuditEntry[] = [];
  const reason = 'finishing a restart that an earlier run began and did not finish';
  for (const entry of entries) {
    const now = deps.now();
    const target = { pid: entry.pid, name: entry.name, supervisor: entry.supervisor, namespec: entry.namespec };
    const failing = failingText(entry, now);
    if (now - entry.since > INTERRUPTED_RESTART_WINDOW) {
      deps.log(`warning: the restart of ${entry.namespec} by ${entry.policy} began more than an hour ago and never finished; it is left as it is${failing ? ` (${failing})` : ''}`);
      if (failing)
        audit.push({
          time: now,
          type: 'action',
          policy: entry.policy,
          action: 'restart',
          target,
          status: 'cleared',
          reason: `${reason}: given up after an hour`,
          detail: failing,
          ...(entry.error !== undefined ? { error: entry.error } : {}),
        });
      continue;
    }
    const outcome = await runWork('supervisor', { type: 'finish-restart', restart: entry }, deps);
    if (outcome.status === 'skipped') continue;
    if (outcome.status === 'done') {
      const after = entry.attempts !== undefined && entry.failing_since !== undefined ? `; ${succeededText({ report: 'ends', since: entry.failing_since, attempts: entry.attempts + 1 }, now)}` : '';
      const detail = outcome.detail !== undefined || after ? `${outcome.detail ?? 'done'}${after}` : undefined;
      deps.log(`restart ${entry.namespec} by ${entry.policy}: done: ${reason}${detail !== undefined ? ` → ${detail}` : ''}`);
      audit.push({ time: now, type: 'action', policy: entry.policy, action: 'restart', target, status: 'done', reason, ...(detail !== undefined ? { detail } : {}) });
      continue;
    }
    if (entry.error === outcome.error && entry.attempts !== undefined) {
      // The same failure again: counted, reported when it ends.
      kept.push({ ...entry, attempts: entry.attempts + 1 });
      continue;
    }
    deps.log(`restart ${entry.namespec} by ${entry.policy}: failed: ${reason}: ${outcome.error}; tried again every cycle, reported again when it ends`);
    audit.push({ time: now, type: 'action', policy: entry.policy, action: 'restart', target, status: 'failed', reason, error: outcome.error });
    kept.push({ ...entry, failing_since: now, attempts: 1, error: outcome.error });
  }
  return { kept, audit };
}

/** "finishing it failed 6 times over 5m since 2026-12-05 07:30:00 UTC: ERROR", or undefined when it has not failed. */
function failingText(entry: RestartUnderWay, now: number): string | undefined {
  if (entry.attempts === undefined || entry.failing_since === undefined) return undefined;
  const times = entry.attempts === 1 ? 'once' : `${entry.attempts} times`;
  return `finishing it failed ${times} over ${formatDuration(now - entry.failing_since)} since ${timeText(entry.failing_since)}: ${entry.error ?? 'failed'}`;
}

export interface ResumeReport {
  tree: PausedTree;
  status: 'done' | 'failed' | 'skipped';
  /** What happened, e.g. "resumed 3 processes" or why not. */
  text: string;
}

/**
 * SIGCONT every tree the state lists (each pid checked against its start time), then keep only
 * those that could not be resumed. For `resume --all`, and for the daemon and the event
 * listener when they stop and when they start after a crash.
 */
export async function resumeAllPaused(store: StateStore, deps: AdapterDeps, reason: string): Promise<{ reports: ResumeReport[]; storeProblems: string[] }> {
  const release = await store.hold();
  try {
    const loaded = await store.load(deps.now());
    for (const warning of loaded.warnings) deps.log(`warning: ${warning}`);
    const state = withTickStartTimes(loaded.state, (pid) => deps.startTime(pid));
    if (state.paused.length === 0) return { reports: [], storeProblems: [] };
    const kept: PausedTree[] = [];
    const reports: ResumeReport[] = [];
    const audit: AuditEntry[] = [];
    for (const tree of state.paused) {
      const resume: PlannedAction = {
        policy: tree.policy,
        kind: PAUSING_KIND,
        action: 'resume',
        mode: 'enforce',
        adapter: 'signal',
        processes: tree.processes,
        target: { pid: tree.root.pid, start_time: tree.root.start_time, name: tree.root.name },
        reason,
        status: 'planned',
      };
      const outcome = await runWork(resume.adapter, { type: 'action', action: resume }, deps);
      const text = outcome.status === 'done' ? (outcome.detail ?? 'resumed') : outcome.status === 'failed' ? outcome.error : outcome.reason;
      reports.push({ tree, status: outcome.status, text });
      if (outcome.status === 'failed' && outcome.processes?.length) kept.push({ ...tree, processes: outcome.processes });
      audit.push({
        time: deps.now(),
        type: 'action',
        policy: tree.policy,
        action: 'resume',
        target: { pid: tree.root.pid, name: tree.root.name },
        status: outcome.status,
        reason,
        ...(outcome.status === 'failed' ? { error: outcome.error } : {}),
        ...(outcome.status === 'done' && outcome.detail ? { detail: outcome.detail } : {}),
      });
    }
    state.paused = kept;
    const storeProblems: string[] = [];
    await store.save(state).catch((error: unknown) => storeProblems.push(`${errorText(error)}; the processes were resumed, but the state still lists them`));
    await store.audit(audit).catch((error: unknown) => storeProblems.push(errorText(error)));
    return { reports, storeProblems };
  } finally {
    await release();
  }
}

/** "rsync (pid 4242, paused by rsync-backoff)". */
export function describePaused(tree: PausedTree): string {
  return `${tree.root.name} (pid ${tree.root.pid}, paused by ${tree.policy})`;
}
