// The one interface every action adapter implements, and what they are given: the work (a
// planned action or a notification to deliver) and injected dependencies (clock, signals,
// supervisord clients), so that tests can drive them against real processes and servers.

import type { SupervisorClient } from '../supervisord/client.js';
import type { ActionOutcome, Lasting, NotificationMessage, PlannedAction, RestartUnderWay } from '../data/types.js';
import type { NotifierConfig } from '../policy/model.js';

export type Work =
  | { type: 'action'; action: PlannedAction }
  | {
      type: 'notification';
      notification: NotificationMessage;
      notifier: NotifierConfig;
      /** The event an exec notifier receives as JSON on stdin. */
      event: Record<string, unknown>;
      /** The lasting condition the action begins, repeats or ends (a failure that lasts), or ends when it was cleared. */
      lasting?: Lasting;
    }
  /** A restart an earlier run began (stopProcess) and did not finish (startProcess). */
  | { type: 'finish-restart'; restart: RestartUnderWay };

/** What an adapter reports for one piece of work; never thrown. */
export type Outcome = ActionOutcome;

export interface AdapterDeps {
  env: NodeJS.ProcessEnv;
  /** Epoch seconds. */
  now(): number;
  hostname: string;
  /** The client of a configured supervisor (or of the one in the environment). */
  supervisor(name: string): Promise<SupervisorClient>;
  /** A live process' start time in epoch seconds (to the clock tick from /proc), undefined once it has exited. */
  startTime(pid: number): number | undefined;
  /** Seconds a start time may differ by: 0 from /proc (compared to the clock tick); 1 from ps, whose elapsed times are rounded. */
  startTimeSlack?: number;
  /** process.kill, injectable. */
  kill(pid: number, signal: NodeJS.Signals | number): void;
  sleep(ms: number): Promise<void>;
  /** /proc, for oom_score_adj. */
  procRoot: string;
  /** A line for the operator (stderr, or the daemon's log). */
  log(line: string): void;
  /** Aborted when procguard is stopping (SIGTERM): notifications under way are cut short. */
  stopping?: AbortSignal;
}

/** The adapters, by the name a plan entry gives in `adapter`: supervisor, signal, oom (actions), mail, exec, alertmanager, webhook (notifiers). */
export type AdapterName = NonNullable<PlannedAction['adapter']> | NotifierConfig['type'];

export interface Adapter {
  readonly name: AdapterName;
  /** Never throws: every problem is an Outcome that names it. */
  execute(work: Work, deps: AdapterDeps): Promise<Outcome>;
}
