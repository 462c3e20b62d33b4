// The shapes the engine reads and writes: snapshots, plans and the state carried from one
// cycle to the next (generated from their schemas), and what an evaluation returns.

import type { EngineState, ProcessRef } from './state.generated.js';

export type { CollectorError, HostMemory, PidfileEntry, Pressure, PressureAverages, ProcessEntry, Snapshot, SupervisorEntry } from './snapshot.generated.js';
export type { ClearedCondition, HeldNotification, Lasting, Measure, NotificationEvent, Plan, PlanError, PlannedAction, PlannedNotification, Target } from './plan.generated.js';
export type { EngineState, LastingCondition, NotificationMessage, PausedTree, PendingNotification, ProcessRef, RestartUnderWay, TargetState } from './state.generated.js';

export type ActionName = import('./plan.generated.js').PlannedAction['action'];
export type Status = import('./plan.generated.js').PlannedAction['status'];

export function emptyState(): EngineState {
  return { version: 1, start_times: 'ticks', targets: {}, paused: [] };
}

/** One matched process as the policy saw it, for `check --verbose` and the status page. */
export interface Observation {
  policy: string;
  target: import('./plan.generated.js').Target;
  /** What was measured against what, e.g. "rss 120.0 MiB ≤ 200.0 MiB". */
  detail: string;
  verdict: 'ok' | 'over' | 'act' | 'hold';
  /** The number measured and its limit, for headroom: bytes of RSS or seconds of uptime. */
  measure?: import('./plan.generated.js').Measure;
}

/** What an adapter reported for one planned action (or notification): the plan's final status and what goes with it. */
export type ActionOutcome =
  | {
      status: 'done';
      detail?: string;
      /** pause: the processes really stopped. */
      processes?: ProcessRef[];
      /** A restart: the pid supervisord now runs the program as. */
      pid?: number;
    }
  /** resume: `processes` are those still stopped, to try again. */
  | { status: 'failed'; error: string; processes?: ProcessRef[] }
  | { status: 'skipped'; reason: string };

/** What the engine decided for one snapshot: the plan (plain data, the contract with the adapters), the state to carry on, and what each policy saw. */
export interface Evaluation {
  plan: import('./plan.generated.js').Plan;
  state: EngineState;
  observations: Observation[];
  /** The policies configured that are not for this host (`hosts:`): they took no part. */
  inactive?: string[];
}

/** One line of STATE_DIR/audit.log: an action carried out, a notification sent or failed. */
export interface AuditEntry {
  /** Epoch seconds. */
  time: number;
  type: 'action' | 'notification';
  policy: string;
  action?: string;
  target?: Pick<import('./plan.generated.js').Target, 'pid' | 'name' | 'namespec' | 'supervisor'>;
  /** The notifier, for notifications. */
  to?: string;
  subject?: string;
  /** cleared: a lasting condition (an action failing, an audit-mode finding) ended. */
  status: 'done' | 'failed' | 'skipped' | 'dropped' | 'cleared';
  reason?: string;
  error?: string;
  /** What the adapter reports, e.g. the new pid after a restart. */
  detail?: string;
}
