// Generated from schemas/state.schema.json by `npm run gen:types`. Do not edit by hand.

/**
 * What procguard carries from one cycle to the next (STATE_DIR/state.json): over-limit counters, recent actions for the flapping guard, every process tree it paused, the restarts under way, and the notifications that failed and wait to be sent again.
 */
export interface EngineState {
  version: 1;
  /**
   * "ticks": every start_time is exact to the clock tick (epoch seconds with a fraction). Absent in a state written by an earlier release, whose start times were whole seconds: the paused processes it names are then recognised by the second of their start.
   */
  start_times?: 'ticks';
  /**
   * policy name → target key → what the policy remembers about it.
   */
  targets: {
    [k: string]: {
      [k: string]: TargetState;
    };
  };
  /**
   * The process trees paused and not yet resumed.
   */
  paused: PausedTree[];
  /**
   * Notifications that could not be delivered, retried on later cycles (1, 2, 4, 8 … cycles apart, at least once an hour) until delivered, older than a day, or pushed out by newer ones (at most 100 are kept). The engine carries them through untouched.
   */
  pending?: PendingNotification[];
  /**
   * Conditions that last across cycles, each reported when it begins and when it ends: an action failing on the same target with the same error (retried with backoff), or an audit-mode finding.
   */
  lasting?: LastingCondition[];
  /**
   * The collector errors and plan warnings standing at the last cycle ("warning: TEXT", "error: SOURCE: MESSAGE", each cut to 500 characters): `apply --quiet` prints one only when it first appears, and says once when it is gone.
   *
   * @maxItems 64
   */
  reported?: string[];
  /**
   * Restarts (stopProcess, then startProcess) under way, written before the first stop: a run killed between the two leaves the program stopped, and the next cycle starts it again if it is still STOPPED within the hour.
   */
  restarting?: RestartUnderWay[];
}
/**
 * What a policy remembers about one target between cycles.
 *
 * This interface was referenced by `EngineState`'s JSON-Schema
 * via the `definition` "targetState".
 */
export interface TargetState {
  /**
   * Consecutive cycles over the limit (memory `for`).
   */
  over?: number;
  /**
   * Epoch seconds of the actions taken on it, for the flapping guard.
   */
  actions?: number[];
  /**
   * The flapping guard stopped acting and has sent its one notification.
   */
  guarded?: boolean;
  /**
   * A load pause was ended by max_pause: no new pause until the load falls to resume_below.
   */
  released?: boolean;
  cpu?: CpuSample;
}
/**
 * A cpu policy's last reading of its target: the CPU time of each process it summed, by identity, and when it read them. The next cycle's rate is the change over the time between the two readings.
 *
 * This interface was referenced by `EngineState`'s JSON-Schema
 * via the `definition` "cpuSample".
 */
export interface CpuSample {
  /**
   * The snapshot's time (epoch seconds).
   */
  time: number;
  /**
   * The snapshot's since_boot, when it had one: the interval is measured on it.
   */
  since_boot?: number;
  /**
   * PID:START_TICKS (the pid and its start time in clock ticks since the epoch, so a reused pid is another process) → seconds of CPU used (cpu_time).
   */
  processes: {
    [k: string]: number;
  };
}
/**
 * A process tree a load policy stopped with SIGSTOP and must resume.
 *
 * This interface was referenced by `EngineState`'s JSON-Schema
 * via the `definition` "pausedTree".
 */
export interface PausedTree {
  policy: string;
  /**
   * The matched process at the top of the tree.
   */
  root: {
    pid: number;
    start_time: number;
    name: string;
  };
  /**
   * Every process that was stopped, the root included.
   */
  processes: ProcessRef[];
  /**
   * Epoch seconds when it was paused.
   */
  since: number;
}
/**
 * One process of a paused tree, identified against pid reuse by its start time.
 *
 * This interface was referenced by `EngineState`'s JSON-Schema
 * via the `definition` "processRef".
 */
export interface ProcessRef {
  pid: number;
  start_time: number;
}
/**
 * A notification that could not be delivered: kept in state and sent again on later cycles (never by the engine).
 *
 * This interface was referenced by `EngineState`'s JSON-Schema
 * via the `definition` "pendingNotification".
 */
export interface PendingNotification {
  notification: NotificationMessage;
  /**
   * The event as the exec notifier receives it on stdin.
   */
  event?: {
    [k: string]: unknown;
  };
  attempts: number;
  /**
   * Epoch seconds of the first failure.
   */
  first_failed: number;
  last_error: string;
  /**
   * Cycles still to skip before the next attempt (backoff: attempts 1, 2, 4, 8 … cycles apart). Absent: the next cycle.
   */
  skip_cycles?: number;
  /**
   * Epoch seconds by which the next attempt is made whatever skip_cycles says (an hour after the last attempt).
   */
  retry_by?: number;
}
/**
 * A rendered notification without its status: what an adapter sends and what waits in state.
 *
 * This interface was referenced by `EngineState`'s JSON-Schema
 * via the `definition` "notificationMessage".
 */
export interface NotificationMessage {
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
  subject: string;
  body: string;
}
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
 * One lasting condition, keyed by policy, action and target.
 *
 * This interface was referenced by `EngineState`'s JSON-Schema
 * via the `definition` "lastingCondition".
 */
export interface LastingCondition {
  policy: string;
  action: string;
  /**
   * The target as the policy's state knows it: supervisor:SERVER:GROUP:NAME, or pid:PID:START_TIME.
   */
  target_key: string;
  target: Target;
  /**
   * failing: the action failed; audit: the action was skipped in audit mode.
   */
  kind: 'failing' | 'audit';
  /**
   * Epoch seconds.
   */
  first_seen: number;
  /**
   * Epoch seconds.
   */
  last_seen: number;
  /**
   * Attempts made (failing); cycles it was found in (audit).
   */
  attempts: number;
  /**
   * failing: the error of the last attempt, exactly.
   */
  error?: string;
  /**
   * failing: cycles still to skip before the next attempt (backoff: 0, 1, 3, 7 … after the 1st, 2nd, 3rd, 4th attempt).
   */
  skip_cycles?: number;
  /**
   * failing: epoch seconds by which the next attempt is made whatever skip_cycles says (an hour after the last attempt).
   */
  retry_by?: number;
}
/**
 * A restart begun (stopProcess sent) but not known to be finished (startProcess answered).
 *
 * This interface was referenced by `EngineState`'s JSON-Schema
 * via the `definition` "restartUnderWay".
 */
export interface RestartUnderWay {
  policy: string;
  supervisor: string;
  namespec: string;
  /**
   * The process name, for messages.
   */
  name: string;
  /**
   * The pid it was restarted from.
   */
  pid: number;
  /**
   * Epoch seconds when it began.
   */
  since: number;
  /**
   * Epoch seconds when finishing it first failed with `error`; reported then, and again when it is done or given up.
   */
  failing_since?: number;
  /**
   * Attempts to finish it that failed with `error`.
   */
  attempts?: number;
  /**
   * The error of the last failed attempt, exact: another error is reported as a new failure.
   */
  error?: string;
}
