// The one interface every action adapter implements, and what they are given: the work (a
// planned action or a notification to deliver) and injected dependencies (clock, signals,
// supervisord clients), so that tests can drive them against real processes and servers.

import type { SupervisorClient } from '../supervisord/client.js';
import type { NotificationMessage, PlannedAction, ProcessRef } from '../data/types.js';
import type { NotifierConfig } from '../policy/model.js';

export type Work =
  | { type: 'action'; action: PlannedAction }
  | {
      type: 'notification';
      notification: NotificationMessage;
      notifier: NotifierConfig;
      /** The event an exec notifier receives as JSON on stdin. */
      event: Record<string, unknown>;
    };

export type Outcome =
  | {
      status: 'done';
      detail?: string;
      processes?: ProcessRef[];
      /** A restart: the pid supervisord now runs the program as. */
      pid?: number;
    }
  | { status: 'failed'; error: string; processes?: ProcessRef[] }
  | { status: 'skipped'; reason: string };

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

export interface Adapter {
  readonly name: string;
  /** Whether this adapter carries out the work. Exactly one adapter accepts any work. */
  accepts(work: Work): boolean;
  /** Never throws: every problem is an Outcome that names it. */
  execute(work: Work, deps: AdapterDeps): Promise<Outcome>;
}
