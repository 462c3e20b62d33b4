// The shapes the engine reads and writes: snapshots, plans and the state carried from one
// cycle to the next (generated from their schemas), and what an evaluation returns.

import type { EngineState } from './state.generated.js';

export type { CollectorError, PidfileEntry, ProcessEntry, Snapshot, SupervisorEntry } from './snapshot.generated.js';
export type {
  Plan,
  PlanError,
  PlannedAction,
  PlannedNotification,
  Target,
} from './plan.generated.js';
export type {
  EngineState,
  NotificationMessage,
  PausedTree,
  PendingNotification,
  ProcessRef,
  RestartUnderWay,
  TargetState,
} from './state.generated.js';

export type ActionName = import('./plan.generated.js').PlannedAction['action'];
export type Status = import('./plan.generated.js').PlannedAction['status'];

export function emptyState(): EngineState {
  return { version: 1, start_times: 'ticks', targets: {}, paused: [] };
}

/** One matched process as the policy saw it, for `check --verbose`. */
export interface Observation {
  policy: string;
  target: import('./plan.generated.js').Target;
  /** What was measured against what, e.g. "rss 120.0 MiB ≤ 200.0 MiB". */
  detail: string;
  verdict: 'ok' | 'over' | 'act' | 'hold';
  /** The number measured and its limit, for headroom: bytes of RSS or seconds of uptime. */
  measure?: { value: number; limit: number; unit: 'bytes' | 'seconds' };
}

/** What a notification reports: its action (whose status changes when it is carried out) and the template fields. */
export interface NotificationContext {
  action: import('./plan.generated.js').PlannedAction;
  event: import('../engine/notify.js').NotificationEvent;
}

export interface Evaluation {
  plan: import('./plan.generated.js').Plan;
  state: EngineState;
  observations: Observation[];
  /** The context of every planned notification, keyed by the plan's own entries. */
  events: Map<import('./plan.generated.js').PlannedNotification, NotificationContext>;
  /** Notifications held back by uptime_at_most: sent only if their action fails, as a failure is always worth a mail. */
  ifFailed: FailureNotice[];
}

/** A notifier to tell should the action fail, though uptime_at_most kept it from hearing of a success. */
export interface FailureNotice extends NotificationContext {
  to: string;
}
