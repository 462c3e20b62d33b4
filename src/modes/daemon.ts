// `procguard run`: the daemon. One cycle per interval, never two at once (a slow cycle delays
// the next); the policy files watched and reloaded on change and on SIGHUP; SIGTERM or SIGINT
// ends it after the cycle under way, resuming every process it paused. At start it resumes
// what a crashed run left paused.

import { errorText } from '../shared/errors.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { plural } from '../shared/text.js';
import { formatDuration } from '../shared/units.js';
import { ConfigWatcher } from './config.js';
import { handleSignals, startService, type Service } from './service.js';

export interface DaemonOptions {
  config: string[];
  /** Seconds between cycle starts; default settings.interval. */
  interval?: number;
  /** What runs alongside the cycles, started and stopped with them (`run --listen`: the status page). */
  companions?: readonly DaemonCompanion[];
}

/** Something the daemon runs alongside its cycles; it subscribes to them as a service observer. */
export interface DaemonCompanion {
  /**
   * Called once the service runs, before the first cycle. A message says why it cannot start:
   * then the daemon stops without a cycle, resuming what it paused, and exits 1.
   */
  start(service: Service, intervalMs: () => number): Promise<string | undefined>;
  /** Called after the last cycle, before what was paused is resumed. */
  stop(): Promise<void>;
}

/** For tests and benchmarks of many short ticks only; an operator sets none of these. */
export interface DaemonTestHooks {
  /** Milliseconds between cycle starts, overriding the interval. */
  intervalMs?: number;
  /** Stop after this many cycles. */
  maxCycles?: number;
  /** Called after each cycle with the count so far. */
  onCycle?: (cycles: number) => void;
}

export async function runDaemon(options: DaemonOptions, io: CliIo, testHooks: DaemonTestHooks = {}): Promise<ExitCode> {
  const service = await startService(options.config, io, 'daemon');
  if (typeof service === 'number') return service;
  const { log, store, paths } = service;
  const config = service.config;
  const intervalMs = (): number => testHooks.intervalMs ?? 1000 * (options.interval ?? service.config.policySet.settings.interval);

  let stopping: string | undefined;
  let failure: ExitCode | undefined;
  let wake: (() => void) | undefined;
  const stop = (signal: string): void => {
    if (stopping) {
      log(`${signal}: already stopping; waiting for the cycle under way to finish`);
      return;
    }
    stopping = signal;
    log(`${signal}: stopping after the cycle under way (a notification under way is cut short)`);
    service.stop();
    wake?.();
  };
  // After a reload, the templates the new set names are watched too.
  const reload = (trigger: string): void => void service.reload(trigger).then(() => watcher.follow(service.config.files));
  const watcher = new ConfigWatcher(options.config, io.env, (path) => reload(`${path} changed`), log);
  watcher.follow(config.files);
  const releaseSignals = handleSignals({ SIGTERM: stop, SIGINT: stop, SIGHUP: reload });

  const running: DaemonCompanion[] = [];
  for (const companion of options.companions ?? []) {
    const problem = await companion.start(service, intervalMs);
    if (problem === undefined) {
      running.push(companion);
      continue;
    }
    releaseSignals();
    await watcher.close().catch(() => undefined);
    for (const started of running) await started.stop();
    log(`${problem}; the daemon did not start`, { event: 'start', level: 'error' });
    await service.resumePaused('stop');
    return ExitCode.FAILED;
  }

  const { policySet } = config;
  log(
    `running: ${plural(policySet.policies.length, 'policy', 'policies')} from ${plural(policySet.files.length, 'file')} (${paths.join(', ')}), ` +
      `a cycle every ${testHooks.intervalMs !== undefined ? `${testHooks.intervalMs}ms` : formatDuration(intervalMs() / 1000)}, state in ${store.where}`,
  );
  try {
    while (!stopping) {
      const started = Date.now();
      await service.cycle();
      testHooks.onCycle?.(service.cycles);
      if (testHooks.maxCycles !== undefined && service.cycles >= testHooks.maxCycles) break;
      const wait = started + intervalMs() - Date.now();
      if (stopping || wait <= 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } catch (error) {
    // A cycle logs its own failures; this is a bug. What procguard paused is still resumed below.
    log(`internal error: ${errorText(error)}; stopping`);
    failure = ExitCode.INTERNAL_ERROR;
  } finally {
    releaseSignals();
    await watcher.close().catch(() => undefined);
    for (const companion of running) await companion.stop();
  }
  const resumed = (await service.resumePaused('stop')) === 'ok';
  log(`stopped after ${plural(service.cycles, 'cycle')}${resumed ? '' : '; some paused processes could not be resumed (see above; procguard resume --all)'}`);
  return failure ?? (resumed ? ExitCode.OK : ExitCode.FAILED);
}
