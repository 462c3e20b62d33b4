// The shapes the engine reads and writes: snapshots and plans (generated from their schemas)
// and the state carried from one cycle to the next.

export type { CollectorError, PidfileEntry, ProcessEntry, Snapshot, SupervisorEntry } from './snapshot.generated.js';
export type {
  HeldNotification,
  Measure,
  NotificationEvent,
  Plan,
  PlanError,
  PlannedAction,
  PlannedNotification,
  Target,
} from './plan.generated.js';

export type ActionName = import('./plan.generated.js').PlannedAction['action'];
export type Status = import('./plan.generated.js').PlannedAction['status'];

/** One process of a paused tree, identified against pid reuse by its start time. */
export interface ProcessRef {
  pid: number;
  start_time: number;
}

/** A process tree a load policy stopped with SIGSTOP and must resume. */
export interface PausedTree {
  policy: string;
  /** The matched process at the top of the tree. */
  root: ProcessRef & { name: string };
  /** Every process that was stopped, the root included. */
  processes: ProcessRef[];
  /** Epoch seconds when it was paused. */
  since: number;
}

/** What a policy remembers about one target between cycles. */
export interface TargetState {
  /** Consecutive cycles over the limit (memory `for`). */
  over?: number;
  /** Epoch seconds of the actions taken on it, for the flapping guard. */
  actions?: number[];
  /** The flapping guard stopped acting and has sent its one notification. */
  guarded?: boolean;
  /** A load pause was ended by max_pause: no new pause until the load falls to resume_below. */
  released?: boolean;
}

/** A rendered notification without its status: what an adapter sends and what waits in state. */
export type NotificationMessage = Pick<import('./plan.generated.js').PlannedNotification, 'policy' | 'to' | 'action' | 'target' | 'subject' | 'body'>;

/** A notification that could not be delivered: kept in state and sent again on later cycles (never by the engine). */
export interface PendingNotification {
  notification: NotificationMessage;
  /** What an exec notifier receives on stdin. */
  event?: Record<string, unknown>;
  attempts: number;
  /** Epoch seconds of the first failure. */
  first_failed: number;
  last_error: string;
}

export interface EngineState {
  version: 1;
  /**
   * "ticks": every start_time in it is exact to the clock tick. Without it, the state was
   * written by a release that kept whole seconds; the engine upgrades it (see evaluate.ts).
   */
  start_times?: 'ticks';
  /** policy name → target key → what it remembers. */
  targets: Record<string, Record<string, TargetState>>;
  paused: PausedTree[];
  /** Failed notifications waiting to be sent again; the engine carries them through untouched. */
  pending?: PendingNotification[];
  /** Restarts under way, written ahead of the stop; finished by the next cycle if the run dies mid-way. */
  restarting?: RestartUnderWay[];
}

/** A restart begun (stopProcess sent) but not known to be finished (startProcess answered). */
export interface RestartUnderWay {
  policy: string;
  supervisor: string;
  namespec: string;
  /** The process name, for messages. */
  name: string;
  /** The pid it was restarted from. */
  pid: number;
  /** Epoch seconds when it began. */
  since: number;
}

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
  status: 'done' | 'failed' | 'skipped' | 'dropped';
  reason?: string;
  error?: string;
  /** What the adapter reports, e.g. the new pid after a restart. */
  detail?: string;
}
