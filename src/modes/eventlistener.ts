// `procguard eventlistener`: run as a supervisord [eventlistener] subscribed to TICK_*. One
// cycle per tick; every other event is acknowledged untouched; a tick that was queued while
// a cycle ran is acknowledged without another cycle. stdout carries the protocol and nothing
// else: logs go to stderr, children get pipes, console output is sent to stderr. Whatever a
// cycle meets (a failed restart, a mail that cannot go) is logged and the event acknowledged,
// so the listener never dies or stalls on it.

import { errorText } from '../shared/errors.js';
import { format } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { plural } from '../shared/text.js';
import type { DaemonCompanion } from './daemon.js';
import { ListenerProtocol, ProtocolError } from './listener-protocol.js';
import { handleSignals, startService, type Service } from './service.js';

export interface ListenerStreams {
  input: Readable;
  output: Writable;
}

export interface ListenerOptions {
  config: string[];
  /** What runs alongside the cycles (`--listen`: the status page), as for the daemon. */
  companions?: readonly DaemonCompanion[];
}

export async function runEventListenerVerb(options: ListenerOptions, io: CliIo, streams: ListenerStreams): Promise<ExitCode> {
  const service = await startService(options.config, io, 'event listener');
  if (typeof service === 'number') return service;
  const { log, store, paths, config } = service;
  log(`listening for supervisord events: ${plural(config.policySet.policies.length, 'policy', 'policies')} from ${paths.join(', ')}, state in ${store.where}`);
  return serveEvents(service, streams, options.companions);
}

/**
 * The protocol loop, until stdin closes or SIGTERM/SIGINT; then paused processes are resumed.
 * The companions start before the first event; the interval they are told is the period of
 * the last TICK_ event (settings.interval until one has come).
 */
export async function serveEvents(service: Service, { input, output }: ListenerStreams, companions: readonly DaemonCompanion[] = []): Promise<ExitCode> {
  const { log } = service;
  let tickMs: number | undefined;
  const intervalMs = (): number => tickMs ?? 1000 * service.config.policySet.settings.interval;
  const running: DaemonCompanion[] = [];
  for (const companion of companions) {
    const problem = await companion.start(service, intervalMs);
    if (problem === undefined) {
      running.push(companion);
      continue;
    }
    for (const started of running) await started.stop();
    log(`${problem}; the event listener did not start`, { event: 'start', level: 'error' });
    await service.resumePaused('stop');
    return ExitCode.FAILED;
  }
  const protocol = new ListenerProtocol(input, output);
  const restoreConsole = output === process.stdout ? consoleToStderr() : () => undefined;
  let stopping: string | undefined;
  let wake: (() => void) | undefined;
  const stop = (signal: string): void => {
    if (!stopping) log(`${signal}: stopping${wake ? '' : ' after the event under way'}`);
    stopping ??= signal;
    service.stop();
    wake?.();
  };
  const releaseSignals = handleSignals({ SIGTERM: stop, SIGINT: stop, SIGHUP: (signal) => void service.reload(signal) });
  const outputFailed = (error: Error): void => stop(`stdout: ${error.message}`);
  output.on('error', outputFailed);
  if ((input as { isTTY?: boolean }).isTTY) log('waiting for supervisord events on stdin: this command runs as a supervisord [eventlistener] (see examples/supervisord)');

  let exitCode: ExitCode = ExitCode.OK;
  try {
    while (!stopping) {
      await protocol.ready();
      const stopped = new Promise<undefined>((resolve) => (wake = () => resolve(undefined)));
      if (stopping) break;
      const event = await Promise.race([protocol.next(), stopped]);
      wake = undefined;
      if (!event) {
        if (!stopping) log('stdin closed: supervisord has gone; stopping');
        break;
      }
      if (event.eventName.startsWith('TICK_')) {
        const period = Number(event.eventName.slice('TICK_'.length));
        if (Number.isInteger(period) && period > 0) tickMs = period * 1000;
        const when = Number(event.payload.when);
        // A tick from before the last cycle began was queued while it ran: that cycle has already seen the host.
        if (Number.isFinite(when) && when * 1000 <= service.lastCycleStart) log(`${event.eventName} of ${when} acknowledged without a cycle: one began after it`);
        else await service.cycle();
      }
      await protocol.ok();
    }
  } catch (error) {
    // Whatever ends the loop, what procguard paused is resumed below before it exits.
    const message = errorText(error);
    log(error instanceof ProtocolError ? `${message}; stopping` : `internal error: ${message}; stopping`);
    exitCode = error instanceof ProtocolError ? ExitCode.FAILED : ExitCode.INTERNAL_ERROR;
  } finally {
    releaseSignals();
    output.off('error', outputFailed);
    protocol.close();
    restoreConsole();
    for (const companion of running) await companion.stop();
  }
  const resumed = await service.resumePaused('stop');
  log(`stopped after ${plural(service.cycles, 'cycle')}`);
  return resumed === 'ok' ? exitCode : ExitCode.FAILED;
}

/** A stray console.log from any library would break the protocol: while it runs, console output goes to stderr. */
function consoleToStderr(): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug, warn: console.warn, dir: console.dir };
  const toStderr = (...args: unknown[]): void => {
    process.stderr.write(`${format(...args)}\n`);
  };
  Object.assign(console, { log: toStderr, info: toStderr, debug: toStderr, warn: toStderr, dir: toStderr });
  return () => Object.assign(console, saved);
}
