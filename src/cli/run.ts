// `procguard run [-c …] [--interval D] [--listen ADDR]`: the daemon, with the status page
// (its board, metrics and HTTP server) attached when --listen asks for it.

import { hostname } from 'node:os';
import type { DaemonCompanion } from '../modes/daemon.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { loadHandlebars } from '../shared/handlebars.js';
import type { StatusServer } from '../status/server.js';
import { CliFailure } from './context.js';

export interface RunOptions {
  config: string[];
  interval?: number;
  /** Serve the status page, its JSON, metrics and a health check here (HOST:PORT or PORT). */
  listen?: string;
}

export async function runDaemonVerb(options: RunOptions, io: CliIo): Promise<ExitCode> {
  // A bad address or half a login is refused before anything starts.
  const status = options.listen === undefined ? undefined : await statusPage(options.listen, io.env);
  const { runDaemon } = await import('../modes/daemon.js');
  return runDaemon({ config: options.config, ...(options.interval !== undefined ? { interval: options.interval } : {}), ...(status ? { companions: [status] } : {}) }, io);
}

/**
 * The status page on `listen` for the daemon, the event listener or the memmon drop-in: its
 * board and metrics observe every cycle and reload; the server starts before the first cycle.
 */
export async function statusPage(listen: string, env: NodeJS.ProcessEnv): Promise<DaemonCompanion> {
  // The status page's modules (prom-client, the HTTP server, the page and its handlebars) load only when it is asked for.
  const [{ StatusBoard }, { Metrics }, web, { supervisorsToAsk }] = await Promise.all([
    import('../status/board.js'),
    import('../status/metrics.js'),
    import('../status/server.js'),
    import('../supervisord/connect.js'),
    loadHandlebars(),
  ]);
  const address = web.parseListenAddress(listen);
  if (typeof address === 'string') throw new CliFailure(`--listen ${address}`, ExitCode.INVALID);
  const credentials = web.listenCredentials(env);
  if (typeof credentials === 'string') throw new CliFailure(`--listen: ${credentials}`, ExitCode.INVALID);

  let server: StatusServer | undefined;
  return {
    async start(service, intervalMs) {
      const { log } = service;
      const board = new StatusBoard(service, env, hostname());
      const metrics = new Metrics({ supervisors: () => supervisorsToAsk(service.config.policySet.supervisors, env).map((s) => s.name) });
      service.observers.push(board, metrics);
      try {
        server = await web.startStatusServer({ address, ...(credentials ? { credentials } : {}), board, metrics, intervalMs, log });
      } catch (error) {
        return `cannot listen on ${listen}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
      }
      const open = web.isLoopback(address.host)
        ? ''
        : credentials
          ? ' (reachable from other hosts, with basic auth)'
          : ' (reachable from other hosts without a login: set PROCGUARD_LISTEN_USERNAME and PROCGUARD_LISTEN_PASSWORD)';
      log(`status page on ${server.url}/ (also /api/status, /metrics, /healthz)${open}`, { event: 'listen', level: open && !credentials ? 'warn' : 'info', url: server.url });
      return undefined;
    },
    async stop() {
      await server?.close();
    },
  };
}
