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
import { hostname } from 'node:os';
import { CliFailure } from '../cli/context.js';
import type { StatusServer } from '../status/server.js';
import { handleSignals, startService } from './service.js';

export interface DaemonOptions {
  config: string[];
  /** Seconds between cycle starts; default settings.interval. */
  interval?: number;
  /** Milliseconds, overriding both: for tests and benchmarks of many short ticks. */
  intervalMs?: number;
  /** Stop after this many cycles (tests, benchmarks). */
  maxCycles?: number;
  /** Called after each cycle with the count so far: for benchmarks and tests that watch a long run. */
  onCycle?: (cycles: number) => void;
  /** Serve the status page, its JSON, metrics and a health check here (HOST:PORT or PORT). */
  listen?: string;
}

export async function runDaemon(options: DaemonOptions, io: CliIo): Promise<ExitCode> {
  // The status page's modules (prom-client, the HTTP server, the page) load only when it is asked for.
  const web = options.listen === undefined ? undefined : await loadStatusModules();
  // A bad address or half a login is refused before anything starts.
  const address = options.listen === undefined || !web ? undefined : web.parseListenAddress(options.listen);
  if (typeof address === 'string') throw new CliFailure(`--listen ${address}`, ExitCode.INVALID);
  const credentials = address === undefined || !web ? undefined : web.listenCredentials(io.env);
  if (typeof credentials === 'string') throw new CliFailure(`--listen: ${credentials}`, ExitCode.INVALID);

  const service = await startService(options.config, io, 'daemon');
  if (typeof service === 'number') return service;
  const { log, store, paths } = service;
  const config = service.config;
  const intervalMs = (): number => options.intervalMs ?? 1000 * (options.interval ?? service.config.policySet.settings.interval);

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

  let status: StatusServer | undefined;
  if (address && web) {
    const board = new web.StatusBoard(service, io.env, hostname());
    const metrics = new web.Metrics();
    service.observers.push(board, metrics);
    try {
      status = await web.startStatusServer({ address, ...(credentials ? { credentials } : {}), board, metrics, intervalMs, log });
    } catch (error) {
      releaseSignals();
      await watcher.close().catch(() => undefined);
      log(`cannot listen on ${options.listen}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; the daemon did not start`, { event: 'start', level: 'error' });
      await service.resumePaused('stop');
      return ExitCode.FAILED;
    }
    const open = web.isLoopback(address.host) ? '' : credentials ? ' (reachable from other hosts, with basic auth)' : ' (reachable from other hosts without a login: set PROCGUARD_LISTEN_USERNAME and PROCGUARD_LISTEN_PASSWORD)';
    log(`status page on ${status.url}/ (also /api/status, /metrics, /healthz)${open}`, { event: 'listen', level: open && !credentials ? 'warn' : 'info', url: status.url });
  }

  const { policySet } = config;
  log(
    `running: ${plural(policySet.policies.length, 'policy', 'policies')} from ${plural(policySet.files.length, 'file')} (${paths.join(', ')}), ` +
      `a cycle every ${options.intervalMs !== undefined ? `${options.intervalMs}ms` : formatDuration(intervalMs() / 1000)}, state in ${store.where}`,
  );
  try {
    while (!stopping) {
      const started = Date.now();
      await service.cycle();
      options.onCycle?.(service.cycles);
      if (options.maxCycles !== undefined && service.cycles >= options.maxCycles) break;
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
    await status?.close();
  }
  const resumed = (await service.resumePaused('stop')) === 'ok';
  log(`stopped after ${plural(service.cycles, 'cycle')}${resumed ? '' : '; some paused processes could not be resumed (see above; procguard resume --all)'}`);
  return failure ?? (resumed ? ExitCode.OK : ExitCode.FAILED);
}

async function loadStatusModules() {
  const [board, metrics, server] = await Promise.all([import('../status/board.js'), import('../status/metrics.js'), import('../status/server.js')]);
  return { StatusBoard: board.StatusBoard, Metrics: metrics.Metrics, ...server };
}
