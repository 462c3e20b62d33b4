// Stand-in agents for the hub's tests and benchmark: real HTTP servers on 127.0.0.1 that answer
// /api/status with a status document of N supervisord programs (as `procguard run --listen`
// does), optionally behind basic auth, and that can be told to stall (accept a request and
// never answer) or to answer only after a delay.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { StatusDocument } from '../../src/status/board.js';

/** What an agent with `programs` supervisord programs under one memory policy answers. */
export function statusDocument(host: string, programs: number, now = Math.floor(Date.now() / 1000)): StatusDocument {
  const processes = Array.from({ length: programs }, (_, i) => {
    const rss = (20 + ((i * 37) % 180)) * 1024 * 1024;
    const limit = 200 * 1024 * 1024;
    return {
      pid: 10000 + i,
      name: `app_${i}`,
      namespec: `app:app_${i}`,
      state: 'RUNNING',
      uptime: 3600 + i,
      rss,
      policies: [
        {
          policy: 'app-memory',
          verdict: rss > limit ? ('over' as const) : ('ok' as const),
          detail: `rss ${rss} of ${limit}`,
          headroom: { value: rss, limit, left: limit - rss, unit: 'bytes' as const, used_percent: Math.round((rss / limit) * 1000) / 10 },
        },
      ],
    };
  });
  return {
    version: 1,
    host,
    now,
    started: now - 3600,
    cycles: 240,
    last_cycle: { time: now - 5, duration_ms: 12.5, processes: programs + 50, errors: [] },
    summary: { supervisors: { up: 1, down: 0 }, programs, over_limit: 0, paused: 0, failing: 0 },
    warnings: [],
    config: { files: ['/etc/procguard/policies.yaml'], policies: 1, errors: [] },
    supervisors: [{ name: 'default', url: 'unix:///run/supervisor.sock', processes }],
    processes: [],
    policies: [{ name: 'app-memory', kind: 'memory', mode: 'enforce', enforces: 'rss at most 200 MiB', matched: programs }],
    paused: [],
    lasting: [],
    recent: [
      {
        time: now - 600,
        type: 'action',
        policy: 'app-memory',
        what: 'restart',
        target: { pid: 10000, name: 'app_0', namespec: 'app:app_0' },
        status: 'done',
        reason: 'rss over 200 MiB for 3 cycles',
      },
    ],
  } as unknown as StatusDocument;
}

export type AgentMode = 'answer' | 'stall' | 'refuse';

export interface StandInAgent {
  url: string;
  port: number;
  /** Requests received, and those still waiting for an answer. */
  requests: number;
  open: number;
  /** Connections the client closed before an answer. */
  abandoned: number;
  mode: AgentMode;
  /** Milliseconds to wait before answering. */
  delayMs: number;
  close(): Promise<void>;
}

export async function startStandInAgent(options: {
  host: string;
  programs?: number;
  login?: { username: string; password: string };
  mode?: AgentMode;
  delayMs?: number;
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}): Promise<StandInAgent> {
  const body = JSON.stringify(statusDocument(options.host, options.programs ?? 3));
  const expected = options.login ? `Basic ${Buffer.from(`${options.login.username}:${options.login.password}`).toString('base64')}` : undefined;
  const held = new Set<http.ServerResponse>();
  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    agent.requests += 1;
    if (agent.mode === 'refuse') {
      response.writeHead(503).end('not now\n');
      return;
    }
    if (expected !== undefined && request.headers.authorization !== expected) {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="procguard"' }).end('authentication required\n');
      return;
    }
    agent.open += 1;
    let answered = false;
    response.on('close', () => {
      agent.open -= 1;
      held.delete(response);
      if (!answered) agent.abandoned += 1;
    });
    if (agent.mode === 'stall') {
      held.add(response);
      return;
    }
    setTimeout(() => {
      answered = true;
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
    }, agent.delayMs);
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent: StandInAgent = {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests: 0,
    open: 0,
    abandoned: 0,
    mode: options.mode ?? 'answer',
    delayMs: options.delayMs ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held) response.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return agent;
}
