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
  /**
   * Lasting conditions (an action failing with the same error, an audit-mode finding) that ended this cycle without an action of their own: the policy, the target or the need went away. An action that succeeded after failing says so in its own `lasting`.
   */
  cleared?: ClearedCondition[];
  /**
   * Notifications held back by uptime_at_most: sent only if the action they report fails (apply), since a failure is always worth telling.
   */
  held_notifications?: HeldNotification[];
}
export interface Action {
  policy: string;
  kind: 'memory' | 'oom' | 'load' | 'runtime' | 'cpu';
  action: 'restart' | 'stop' | 'kill' | 'signal' | 'pause' | 'resume' | 'set_oom_score_adj';
  mode: 'enforce' | 'audit';
  /**
   * Which adapter carries it out, decided by the engine: supervisor (restart, stop, and the signal of a supervisord program), signal (kill, signal, pause, resume), oom (set_oom_score_adj). Absent on an action skipped because none could.
   */
  adapter?: 'supervisor' | 'signal' | 'oom';
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
  measure?: Measure;
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
  lasting?: Lasting;
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
 * The figure a policy measured and what it compared it with, as numbers: what `reason` says in words.
 *
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "measure".
 */
export interface Measure {
  /**
   * What was measured: bytes of memory, seconds of uptime, the load average, the current oom_score_adj, percent of one core (cpu) or of time stalled (pressure).
   */
  value: number;
  /**
   * What it was compared with: the policy's limit, threshold or wanted value.
   */
  limit: number;
  unit: 'bytes' | 'seconds' | 'load' | 'oom_score_adj' | 'percent';
  /**
   * Which figure was measured, where a kind measures more than one: rss, pss, uss or swap for memory policies; cpu for cpu policies; cpu_pressure, io_pressure or memory_pressure for load policies on pressure.
   */
  name?: string;
  /**
   * The limit as the policy wrote it, in percent of the host's memory (snapshot memory.total); `limit` is the bytes it came to.
   */
  limit_percent?: number;
}
/**
 * The action belongs to a condition that lasts across cycles: the same action failing on the same target with the same error, or an audit-mode finding. It is logged, audited and printed by `apply --quiet` when it begins and when it ends; a repeat only counts.
 *
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "lasting".
 */
export interface Lasting {
  /**
   * begins: new (or its error changed), reported; repeats: already reported, counted only; ends: it failed before and succeeded now, reported.
   */
  report: 'begins' | 'repeats' | 'ends';
  /**
   * Epoch seconds when it was first seen.
   */
  since: number;
  /**
   * Attempts so far, this cycle's included (a failing action); cycles it was found in (an audit finding).
   */
  attempts: number;
  /**
   * The error it fails with, exactly.
   */
  error?: string;
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
   * Which adapter delivers it: the notifier's type.
   */
  adapter?: 'mail' | 'exec' | 'alertmanager' | 'webhook';
  /**
   * The action it reports.
   */
  action?: string;
  /**
   * The index in `actions` of the action it reports.
   */
  action_index?: number;
  target?: Target;
  /**
   * Rendered; never holds CR or LF.
   */
  subject: string;
  body: string;
  event?: NotificationEvent;
  status: Status;
  reason?: string;
  error?: string;
  /**
   * A delivered notification (apply): how it was sent.
   */
  result?: string;
  lasting?: Lasting;
}
/**
 * The fields a notification's text is rendered from (the template fields listed in the README), as data; rendered again with the action's final status when the plan is carried out.
 *
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "event".
 */
export interface NotificationEvent {
  host: string;
  /**
   * settings.name, empty when unset.
   */
  name: string;
  policy: string;
  kind: string;
  mode: string;
  action: string;
  status: string;
  reason: string;
  target: Target;
  /**
   * Bytes: the memory compared (memory policies), else the process' RSS.
   */
  rss?: number;
  limit?: number;
  measure?: Measure;
  /**
   * A carried-out action: what the adapter did (done) or what went wrong (failed).
   */
  result?: string;
  /**
   * Seconds.
   */
  uptime: number;
  /**
   * When, as memmon writes it (asctime): "Sat Nov 21 13:36:09 2026".
   */
  time: string;
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "error".
 */
export interface PlanError {
  source: string;
  message: string;
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "clearedCondition".
 */
export interface ClearedCondition {
  policy: string;
  action: string;
  target: Target;
  /**
   * failing: an action that failed; audit: an action skipped in audit mode.
   */
  kind: 'failing' | 'audit';
  /**
   * Epoch seconds when it was first seen.
   */
  since: number;
  /**
   * Epoch seconds when it was last seen.
   */
  last_seen: number;
  attempts: number;
  error?: string;
  /**
   * Why it ended: the policy, the target or the need went away.
   */
  reason: string;
}
/**
 * This interface was referenced by `Plan`'s JSON-Schema
 * via the `definition` "heldNotification".
 */
export interface HeldNotification {
  policy: string;
  /**
   * The notifier's name.
   */
  to: string;
  adapter: 'mail' | 'exec' | 'alertmanager' | 'webhook';
  /**
   * The index in `actions` of the action whose failure it reports.
   */
  action_index: number;
  event: NotificationEvent;
}
