// `procguard run --listen ADDR`: the status page, its JSON, Prometheus metrics and a health
// check over HTTP. Read-only: GET and HEAD only, nothing can be changed. Loopback unless an
// address says otherwise; basic auth when PROCGUARD_LISTEN_USERNAME and _PASSWORD are set
// (neither may be empty); at most MAX_CONNECTIONS connections at once.

import { errorText } from '../shared/errors.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { isIP } from 'node:net';
import type { Log } from '../modes/log.js';
import { jsonText } from '../shared/text.js';
import type { StatusBoard } from './board.js';
import type { Metrics } from './metrics.js';
import { renderPage } from './page.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** "9120" (loopback), "127.0.0.1:9120", "[::1]:9120", "0.0.0.0:9120"; port 0 takes a free one. A message when it is none of them. */
export function parseListenAddress(text: string): ListenAddress | string {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) return `"${text}" is not an address to listen on: give PORT or HOST:PORT, e.g. 127.0.0.1:9120`;
  const host = match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
  if (host !== 'localhost' && isIP(host) === 0) return `"${text}": ${host} is not an IP address`;
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export interface Credentials {
  username: string;
  password: string;
}

/** From the environment: both or neither; a message when only one is set. */
export function listenCredentials(env: NodeJS.ProcessEnv): Credentials | undefined | string {
  const username = env.PROCGUARD_LISTEN_USERNAME;
  const password = env.PROCGUARD_LISTEN_PASSWORD;
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined) return 'basic auth needs both PROCGUARD_LISTEN_USERNAME and PROCGUARD_LISTEN_PASSWORD';
  // An empty one would let anyone in who thinks of trying it; unset both to serve without a login.
  if (username === '') return 'PROCGUARD_LISTEN_USERNAME is empty; give a user name, or unset both it and PROCGUARD_LISTEN_PASSWORD';
  if (password === '') return 'PROCGUARD_LISTEN_PASSWORD is empty; give a password, or unset both it and PROCGUARD_LISTEN_USERNAME';
  return { username, password };
}

export interface StatusServerOptions {
  address: ListenAddress;
  credentials?: Credentials;
  board: StatusBoard;
  metrics: Metrics;
  /** The interval between cycles: the page reloads at it (between 5 s and 60 s), and /healthz fails after three missed. */
  intervalMs: () => number;
  log: Log;
}

export interface StatusServer {
  /** host:port as bound (the port is the real one when 0 was asked). */
  url: string;
  close(): Promise<void>;
}

/** Connections open at once; more are closed as soon as they are accepted. */
export const MAX_CONNECTIONS = 64;
/** A connection that has not sent a whole request, or sits idle between requests, is closed after this long. */
export const IDLE_TIMEOUT_MS = 5_000;
/** How long an answered connection may linger for the client to read the end of the answer. */
const CLOSE_GRACE_MS = 1_000;

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const { board, metrics } = options;
  return startReadOnlyServer({
    address: options.address,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    log: options.log,
    health: () => healthOf(board, options.intervalMs()),
    routes: {
      '/': () => ({ type: 'text/html; charset=utf-8', body: renderPage(board.status(), refreshSeconds(options.intervalMs())) }),
      '/api/status': () => ({ type: 'application/json; charset=utf-8', body: `${jsonText(board.status())}\n` }),
      '/metrics': async () => ({ type: metrics.contentType, body: await metrics.text() }),
    },
  });
}

/** What a page of a read-only server answers: its content type and body. */
export interface Answer {
  type: string;
  body: string;
}

export interface ReadOnlyServerOptions {
  address: ListenAddress;
  credentials?: Credentials;
  log: Log;
  /** /healthz: without the login only "ok" or "failing"; the text with it. */
  health: () => { ok: boolean; text: string };
  /** By path; the query string is the route's to read. */
  routes: Record<string, (query: URLSearchParams) => Answer | Promise<Answer>>;
  /** The page has a GET form to itself (the hub's filters): the CSP lets it submit to this server only. */
  forms?: boolean;
}

/**
 * The HTTP server of the status page and of the hub: GET and HEAD only, basic auth when
 * credentials are given (compared in constant time), /healthz without the login but without
 * the reason, CSP and no caching on every answer, one request per connection, at most
 * MAX_CONNECTIONS at once, each closed when silent for IDLE_TIMEOUT_MS.
 */
export async function startReadOnlyServer(options: ReadOnlyServerOptions): Promise<StatusServer> {
  const { address, credentials, log, routes } = options;
  const expected = credentials ? digest(`${credentials.username}:${credentials.password}`) : undefined;
  const pages = [...Object.keys(routes), '/healthz'];
  const pageList = `${pages.slice(0, -1).join(', ')} and ${pages.at(-1)!}`;
  const security = options.forms
    ? { ...SECURITY_HEADERS, 'Content-Security-Policy': SECURITY_HEADERS['Content-Security-Policy'].replace("form-action 'none'", "form-action 'self'") }
    : SECURITY_HEADERS;

  // Requests that have not arrived whole are looked for every second, not every 30 s (Node's default).
  const server = http.createServer({ connectionsCheckingInterval: 1_000, headersTimeout: IDLE_TIMEOUT_MS, requestTimeout: IDLE_TIMEOUT_MS }, (request, response) => {
    // Once answered, the connection goes: ended, and destroyed a moment later whatever the
    // client keeps sending, so a socket held half-open does not count against the limit.
    response.once('finish', () => {
      request.socket.end();
      setTimeout(() => request.socket.destroy(), CLOSE_GRACE_MS).unref();
    });
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { ...security, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    const [path = '/', queryText = ''] = (request.url ?? '/').split('?', 2);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(405, 'text/plain; charset=utf-8', 'procguard serves its status read-only: GET and HEAD only\n', { Allow: 'GET, HEAD' });
      return;
    }
    const allowed = !expected || authorized(request.headers.authorization, expected);
    if (path === '/healthz') {
      // For a load balancer or a probe without the login: only whether it is well. Why not is behind the login.
      const health = options.health();
      send(health.ok ? 200 : 503, 'text/plain; charset=utf-8', `${allowed ? health.text : health.ok ? 'ok' : 'failing'}\n`);
      return;
    }
    if (!allowed) {
      send(401, 'text/plain; charset=utf-8', 'authentication required\n', { 'WWW-Authenticate': 'Basic realm="procguard", charset="UTF-8"' });
      return;
    }
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) {
      send(404, 'text/plain; charset=utf-8', `no such page: ${path}; there are ${pageList}\n`);
      return;
    }
    try {
      const answer = route(new URLSearchParams(queryText));
      if (answer instanceof Promise) {
        answer.then(
          (a) => send(200, a.type, a.body),
          (error: unknown) => fail(error),
        );
      } else {
        send(200, answer.type, answer.body);
      }
    } catch (error) {
      fail(error);
    }

    function fail(error: unknown): void {
      const message = errorText(error);
      log(`status page: ${path}: ${message}`, { event: 'listen', level: 'error' });
      if (!response.headersSent) send(500, 'text/plain; charset=utf-8', 'the status could not be rendered; see the log\n');
    }
  });
  // A local user opening sockets by the hundred cannot take the daemon's file descriptors: past
  // this many at once, the rest are refused. Nor can one shut the page off by holding those it
  // keeps: a connection that sends nothing, or has not sent a whole request, or sits idle between
  // requests, is closed within IDLE_TIMEOUT_MS (a second more for the check).
  // One request per connection: a kept-alive connection would be kept by any byte sent on it,
  // a blank line every few seconds or pipelined requests never read, and 64 of them would shut
  // the page off for as long as their holder liked. The page reloads itself seldom enough.
  server.maxRequestsPerSocket = 1;
  server.maxConnections = MAX_CONNECTIONS;
  server.keepAliveTimeout = IDLE_TIMEOUT_MS;
  // Any connection silent this long, before its first byte or between requests.
  server.setTimeout(IDLE_TIMEOUT_MS, (socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log(`status page: ${error.message}`, { event: 'listen', level: 'error' }));
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function refreshSeconds(intervalMs: number): number {
  return Math.min(60, Math.max(5, Math.round(intervalMs / 1000)));
}

/** A configured supervisor that has not answered this many cycles in a row makes /healthz fail. */
export const UNANSWERED_CYCLES = 3;

/**
 * Healthy once a cycle has ended within three intervals (or the first is still due), the last
 * cycle did not fail, and every configured supervisor has answered within the last three cycles.
 */
function healthOf(board: StatusBoard, intervalMs: number): { ok: boolean; text: string } {
  const status = board.status();
  const allowed = Math.max(3 * intervalMs, 30_000) / 1000;
  const last = status.last_cycle?.time;
  if (status.last_failure && (last === undefined || status.last_failure.time >= last)) return { ok: false, text: `failing: ${status.last_failure.message}` };
  if (last === undefined) return status.now - status.started <= allowed ? { ok: true, text: 'starting' } : { ok: false, text: 'no cycle has completed' };
  if (status.now - last > allowed) return { ok: false, text: `stalled: the last cycle ended ${status.now - last}s ago` };
  // Cycles start at least an interval apart: three in a row without an answer span three intervals.
  const silent = status.supervisors.filter((sv) => (sv.unanswered?.cycles ?? 0) >= UNANSWERED_CYCLES);
  if (silent.length > 0) {
    const names = silent.map((sv) => `supervisor "${sv.name}" has not answered for ${sv.unanswered!.cycles} cycles (since ${new Date(sv.unanswered!.since * 1000).toISOString()})`);
    return { ok: false, text: `failing: ${names.join('; ')}` };
  }
  return { ok: true, text: 'ok' };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return false;
  return timingSafeEqual(digest(Buffer.from(match[1]!, 'base64').toString('utf8')), expected);
}
