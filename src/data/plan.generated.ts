// Generated from schemas/plan.schema.json by `npm run gen:types`. Do not edit by hand.

/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "action".
 */
export type PlannedAction = Action;
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "status".
 */
export type Status = 'planned' | 'done' | 'failed' | 'skipped';

/**
 * What procguard decided for one snapshot (`procguard check --json`, `procguard apply --json`): actions and notifications with their reasons and statuses, and the collectors that failed.
 */
export interface Plan {
  version: 1;
  /**
   * Epoch seconds of the snapshot evaluated.
   */
  time: number;
  host: string;
  actions: PlannedAction[];
  notifications: PlannedNotification[];
  errors: PlanError[];
  /**
   * Conflicts the operator should fix, e.g. two oom policies wanting different values for one process.
   */
  warnings?: string[];
}
export interface Action {
  policy: string;
  kind: 'memory' | 'oom' | 'load' | 'runtime';
  action: 'restart' | 'stop' | 'kill' | 'signal' | 'pause' | 'resume' | 'set_oom_score_adj';
  mode: 'enforce' | 'audit';
  /**
   * set_oom_score_adj: the value to write.
   */
  value?: number;
  /**
   * signal: the signal name without SIG.
   */
  signal?: string;
  /**
   * kill: seconds between TERM and KILL.
   */
  grace?: number;
  /**
   * pause/resume: every process of the tree, with its start time.
   */
  processes?: {
    pid: number;
    start_time: number;
  }[];
  target: Target;
  /**
   * Why: the observed value against the limit; for a skipped action, why it was skipped.
   */
  reason: string;
  /**
   * A skipped action: what was observed against the limit.
   */
  observed?: string;
  status: Status;
  /**
   * A failed action: what went wrong.
   */
  error?: string;
  /**
   * A carried-out action (apply): what the adapter did, e.g. the program's new pid after a restart.
   */
  result?: string;
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "target".
 */
export interface Target {
  pid: number;
  /**
   * Epoch seconds with the kernel's clock-tick precision (1/100 s); checked again, to the tick, right before any signal or write, against pid reuse.
   */
  start_time?: number;
  name: string;
  cmdline?: string;
  user?: string;
  /**
   * The configured supervisor running it.
   */
  supervisor?: string;
  /**
   * group:name in that supervisor.
   */
  namespec?: string;
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "notification".
 */
export interface PlannedNotification {
  policy: string;
  /**
   * The notifier's name.
   */
  to: string;
  /**
   * The action it reports.
   */
  action?: string;
  target?: Target;
  /**
   * Rendered; never holds CR or LF.
   */
  subject: string;
  body: string;
  status: Status;
  reason?: string;
  error?: string;
  /**
   * A delivered notification (apply): how it was sent.
   */
  result?: string;
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "error".
 */
export interface PlanError {
  source: string;
  message: string;
}
