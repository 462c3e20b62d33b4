// `procguard hub -c FILE… [--listen ADDR]`: many agents' status on one read-only page, with
// /api/fleet (the same as JSON), /metrics (the hub's own) and /healthz, served as an agent
// serves its page (loopback by default, basic auth from PROCGUARD_LISTEN_USERNAME and
// _PASSWORD, CSP, GET and HEAD only, bounded connections). It asks the agents; it never talks
// to a supervisord and can change nothing.

import { setFlagsFromString } from 'node:v8';
import { formatDiagnostic, hasErrors, diagnostic, START_OF_FILE, type Diagnostic } from '../policy/diagnostics.js';
import { loadPolicyFiles, type LoadOptions } from '../policy/load.js';
import { createLog, type Log } from '../modes/log.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { jsonText, plural } from '../shared/text.js';
import { isLoopback, listenCredentials, parseListenAddress, startReadOnlyServer, type Credentials, type ListenAddress, type StatusServer } from '../status/server.js';
import { isHubDocument, validateHubFiles, type HubConfig } from './config.js';
import { FileSd } from './file-sd.js';
import { fleetDocument, parseQuery, stateOf, type FleetTiming, type HostState } from './fleet.js';
import { HubMetrics } from './metrics.js';
import { renderFleetPage } from './page.js';
import { Poller } from './poll.js';

export const DEFAULT_HUB_LISTEN = '127.0.0.1:9300';

export interface HubOptions {
  config: string[];
  listen?: string;
}

/** The hub files, validated as one configuration; a file that is not a hub file is an error. */
export async function loadHubConfig(paths: readonly string[], load: LoadOptions = {}): Promise<{ diagnostics: Diagnostic[]; config?: HubConfig }> {
  const loaded = await loadPolicyFiles(paths, load);
  const others: Diagnostic[] = loaded.files
    .filter((file) => file.data !== undefined && file.data !== null && !isHubDocument(file.data))
    .map((file) =>
      diagnostic(
        file.path,
        START_OF_FILE,
        'error',
        'schema',
        `${file.path} is not a hub file: a hub file has "hub", "agents" or "file_sd" at its top level (policy files belong to procguard run, check and apply)`,
      ),
    );
  const result = validateHubFiles(
    loaded.files.filter((file) => isHubDocument(file.data) || file.data === null),
    [...loaded.diagnostics, ...others],
  );
  return hasErrors(result.diagnostics) ? { diagnostics: result.diagnostics } : result;
}

export async function runHub(options: HubOptions, io: CliIo): Promise<ExitCode> {
  if (options.config.length === 0) {
    io.stderr('procguard hub: give the hub file(s) with -c FILE\n');
    return ExitCode.INVALID;
  }
  const listen = options.listen ?? DEFAULT_HUB_LISTEN;
  const address = parseListenAddress(listen);
  if (typeof address === 'string') {
    io.stderr(`procguard hub: --listen ${address}\n`);
    return ExitCode.INVALID;
  }
  const credentials = listenCredentials(io.env);
  if (typeof credentials === 'string') {
    io.stderr(`procguard hub: ${credentials}\n`);
    return ExitCode.INVALID;
  }
  const { diagnostics, config } = await loadHubConfig(options.config);
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  if (!config) return ExitCode.INVALID;

  // Every round replaces every agent's answer: the old generation grows by a fifth over what
  // survives a collection instead of several times it (as the daemon does, src/modes/service.ts).
  setFlagsFromString('--heap-growing-percent=20');
  const log = await createLog(io, 'procguard hub');
  const hub = new Hub(config, io.env, log);
  let server: StatusServer;
  try {
    server = await hub.serve(address, credentials);
  } catch (error) {
    io.stderr(`procguard hub: cannot listen on ${listen}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return ExitCode.FAILED;
  }
  const open = isLoopback(address.host)
    ? ''
    : credentials
      ? ' (reachable from other hosts, with basic auth)'
      : ' (reachable from other hosts without a login: set PROCGUARD_LISTEN_USERNAME and PROCGUARD_LISTEN_PASSWORD)';
  log(`hub page on ${server.url}/ (also /api/fleet, /metrics, /healthz)${open}`, { event: 'listen', level: open && !credentials ? 'warn' : 'info', url: server.url });
  await hub.start();
  log(`asking ${plural(config.agents.length + hub.fileSdCount(), 'agent')} every ${config.intervalMs / 1000}s, ${config.concurrency} at once, ${config.timeoutMs / 1000}s each`, { event: 'start' });

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping`, { event: 'stop' });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await hub.stop();
  await server.close();
  return ExitCode.OK;
}

/** The poller, the file_sd watcher, the metrics and the pages over them. */
export class Hub {
  readonly poller: Poller;
  readonly metrics: HubMetrics;
  private readonly fileSd: FileSd;

  constructor(
    private readonly config: HubConfig,
    env: NodeJS.ProcessEnv,
    private readonly log: Log,
  ) {
    this.fileSd = new FileSd(config.fileSd, log);
    this.metrics = new HubMetrics(() => this.counts());
    this.poller = new Poller(() => [...config.agents, ...this.fileSd.agents()], {
      intervalMs: config.intervalMs,
      timeoutMs: config.timeoutMs,
      concurrency: config.concurrency,
      env,
      polled: (state) => {
        if (state.lastAttempt) this.metrics.polled(state.lastAttempt.durationMs, state.lastAttempt.error === undefined);
      },
      roundDone: (durationMs, asked) => {
        this.metrics.roundDone(durationMs);
        if (durationMs > config.intervalMs) log(`a round of ${asked} agents took ${durationMs} ms, longer than the interval`, { event: 'round', level: 'warn', duration_ms: durationMs });
      },
    });
  }

  fileSdCount(): number {
    return this.fileSd.agents().length;
  }

  async start(): Promise<void> {
    await this.fileSd.start();
    this.poller.start();
  }

  async stop(): Promise<void> {
    this.poller.stop();
    await this.fileSd.stop();
  }

  timing(): FleetTiming {
    return { intervalMs: this.config.intervalMs, timeoutMs: this.config.timeoutMs, ...(this.poller.lastRound ? { lastRound: this.poller.lastRound } : {}) };
  }

  counts(): Record<HostState, number> {
    const counts = { up: 0, stale: 0, offline: 0 };
    const now = Date.now();
    for (const state of this.poller.agentStates()) counts[stateOf(state, now, this.timing())] += 1;
    return counts;
  }

  /** Healthy once a round has ended within three intervals (or the first is still under way for as long). */
  health(started: number): { ok: boolean; text: string } {
    const now = Date.now();
    const last = this.poller.lastRound;
    const allowed = 3 * this.config.intervalMs + this.config.timeoutMs;
    const end = last ? last.started + last.durationMs : undefined;
    if (end === undefined) return now - started <= allowed ? { ok: true, text: 'starting' } : { ok: false, text: 'no round of polls has completed' };
    if (now - end > allowed) return { ok: false, text: `stalled: the last round ended ${Math.round((now - end) / 1000)}s ago` };
    const c = this.counts();
    return { ok: true, text: `ok: ${c.up} up, ${c.stale} stale, ${c.offline} offline` };
  }

  serve(address: ListenAddress, credentials: Credentials | undefined): Promise<StatusServer> {
    const started = Date.now();
    const refresh = Math.min(60, Math.max(5, Math.round(this.config.intervalMs / 1000)));
    const fleet = (query: URLSearchParams) => fleetDocument(this.poller.agentStates(), Date.now(), this.timing(), parseQuery(query));
    return startReadOnlyServer({
      address,
      ...(credentials ? { credentials } : {}),
      log: this.log,
      forms: true,
      health: () => this.health(started),
      routes: {
        '/': (query) => ({ type: 'text/html; charset=utf-8', body: renderFleetPage(fleet(query), refresh, this.labelNames()) }),
        '/api/fleet': (query) => ({ type: 'application/json; charset=utf-8', body: `${jsonText(fleet(query))}\n` }),
        '/metrics': async () => ({ type: this.metrics.contentType, body: await this.metrics.text() }),
      },
    });
  }

  private labelNames(): string[] {
    const names = new Set<string>();
    for (const state of this.poller.agentStates()) for (const name of Object.keys(state.agent.labels)) names.add(name);
    return [...names].sort();
  }
}
