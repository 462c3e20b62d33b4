// Asking the agents: every interval each agent's /api/status is fetched, at most `concurrency`
// at once, each request with its own deadline (`timeout`), so an agent that stalls holds one
// slot for at most that long and never the others or the page, which is rendered from what the
// last answers said. What an agent answered is kept until it answers again.

import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { errorText } from '../shared/errors.js';
import { readTextFile } from '../shared/bounded-read.js';
import { redactUrlPassword } from '../shared/text.js';
import type { StatusDocument } from '../status/board.js';
import type { HubAgent } from './config.js';

/** Far above an agent with thousands of programs; a bigger answer is refused, not read. */
export const MAX_STATUS_BYTES = 32 * 1024 * 1024;
/** Recent actions kept per agent for the page (those of the last hour, newest first). */
const RECENT_KEPT = 20;

export interface AgentState {
  agent: HubAgent;
  /** What the agent last answered, trimmed to what the page and /api/fleet show. */
  status?: StatusDocument;
  /** Epoch ms of the last answer. */
  lastAnswer?: number;
  /** The last attempt: when it ended, how long it took, and why it failed. */
  lastAttempt?: { time: number; durationMs: number; error?: string };
  inFlight: boolean;
}

export interface PollerOptions {
  intervalMs: number;
  timeoutMs: number;
  concurrency: number;
  env: NodeJS.ProcessEnv;
  /** After each round: how long it took and how many agents it asked. */
  roundDone?: (durationMs: number, asked: number) => void;
  /** After each agent's request. */
  polled?: (state: AgentState) => void;
}

export class Poller {
  private readonly states = new Map<string, AgentState>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Aborts the requests under way when the hub stops. */
  private readonly stopping = new AbortController();
  private readonly caFiles = new Map<string, Promise<string>>();
  /** The last round: when it started and ended. */
  lastRound?: { started: number; durationMs: number; asked: number };

  constructor(
    private readonly agentsNow: () => HubAgent[],
    private readonly options: PollerOptions,
  ) {
    // Each request under way listens for the stop: at most `concurrency` at once.
    setMaxListeners(options.concurrency + 1, this.stopping.signal);
  }

  /** Every configured agent's state, in configuration order. */
  agentStates(): AgentState[] {
    const wanted = this.sync();
    return wanted.map((key) => this.states.get(key)!);
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      const started = Date.now();
      void this.round().then(() => {
        if (this.stopped) return;
        this.timer = setTimeout(tick, Math.max(0, this.options.intervalMs - (Date.now() - started)));
      });
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopping.abort();
  }

  /** One round: every agent not still being asked, `concurrency` at a time. */
  async round(): Promise<void> {
    const started = Date.now();
    // The agents that took longest last time are asked first: a round then lasts about as long
    // as its slowest agent, not that agent's time after everyone else's.
    const queue = this.agentStates()
      .filter((state) => !state.inFlight)
      .sort((a, b) => (b.lastAttempt?.durationMs ?? 0) - (a.lastAttempt?.durationMs ?? 0));
    for (const state of queue) state.inFlight = true;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length) {
        const state = queue[next++]!;
        await this.ask(state);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, queue.length) }, worker));
    const durationMs = Date.now() - started;
    this.lastRound = { started, durationMs, asked: queue.length };
    this.options.roundDone?.(durationMs, queue.length);
  }

  /** The agents now configured (agents: and file_sd), keyed by name and URL; the state of one that went away is dropped. */
  private sync(): string[] {
    const keys: string[] = [];
    for (const agent of this.agentsNow()) {
      const key = `${agent.name}\0${agent.url}`;
      const state = this.states.get(key);
      if (state) state.agent = agent;
      else this.states.set(key, { agent, inFlight: false });
      keys.push(key);
    }
    const wanted = new Set(keys);
    for (const key of this.states.keys()) if (!wanted.has(key)) this.states.delete(key);
    return keys;
  }

  private async ask(state: AgentState): Promise<void> {
    const started = Date.now();
    try {
      const status = trim(await this.fetchStatus(state.agent), started / 1000);
      state.status = status;
      state.lastAnswer = Date.now();
      state.lastAttempt = { time: state.lastAnswer, durationMs: state.lastAnswer - started };
    } catch (error) {
      const now = Date.now();
      state.lastAttempt = { time: now, durationMs: now - started, error: redactUrlPassword(errorText(error)) };
    } finally {
      state.inFlight = false;
      this.options.polled?.(state);
    }
  }

  private async fetchStatus(agent: HubAgent): Promise<StatusDocument> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (agent.username !== undefined && agent.passwordEnv !== undefined) {
      // Read from the environment for each request and never kept: the password is not in the
      // configuration, the page, /api/fleet or the log.
      const password = this.options.env[agent.passwordEnv];
      if (password === undefined || password === '') throw new Error(`password_env ${agent.passwordEnv} is not set`);
      headers.authorization = `Basic ${Buffer.from(`${agent.username}:${password}`).toString('base64')}`;
    }
    const url = new URL('/api/status', agent.url);
    const ca = agent.caFile !== undefined ? await this.caOf(agent.caFile) : undefined;
    const body = await get(url, headers, this.options.timeoutMs, ca, this.stopping.signal);
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch {
      throw new Error('the answer is not JSON: is this a procguard agent (run --listen)?');
    }
    if (!isStatusDocument(data)) throw new Error("the answer is not a procguard agent's /api/status (version 1)");
    return data;
  }

  private caOf(path: string): Promise<string> {
    let read = this.caFiles.get(path);
    if (!read) {
      read = readTextFile(path, 1024 * 1024, 'ca_file').then((text) => {
        if (typeof text !== 'string') {
          this.caFiles.delete(path); // tried again next round
          throw new Error(text.message);
        }
        return text;
      });
      this.caFiles.set(path, read);
    }
    return read;
  }
}

/** One GET with a deadline for all of it (connecting, TLS, the answer); the body at most MAX_STATUS_BYTES. Settles exactly once, whatever the connection does. */
function get(url: URL, headers: Record<string, string>, timeoutMs: number, ca: string | undefined, stopping: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined, body?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopping.removeEventListener('abort', stop);
      if (error) {
        request.destroy();
        reject(error);
      } else {
        resolve(body ?? '');
      }
    };
    const options = { headers, agent: false as const, ...(ca !== undefined ? { ca } : {}) };
    const request = (url.protocol === 'https:' ? https : http).get(url, options, (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        response.resume();
        const refused =
          status === 401
            ? headers.authorization
              ? 'the agent refused the login (401): check username and password_env'
              : 'the agent asks for a login (401): give username and password_env'
            : `the agent answered HTTP ${status}`;
        settle(new Error(refused));
        return;
      }
      // Decoded as it arrives: no buffers held beside the text.
      response.setEncoding('utf8');
      let body = '';
      response.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_STATUS_BYTES) settle(new Error(`the answer is larger than ${MAX_STATUS_BYTES / 1024 / 1024} MiB`));
      });
      response.on('end', () => settle(undefined, body));
      response.on('error', (error) => settle(error));
      response.on('close', () => settle(new Error('the connection closed before the whole answer came')));
    });
    const timer = setTimeout(() => settle(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs);
    const stop = (): void => settle(new Error('the hub is stopping'));
    stopping.addEventListener('abort', stop, { once: true });
    request.on('error', (error) => settle(error));
    request.on('close', () => settle(new Error('the connection closed before an answer came')));
  });
}

function isStatusDocument(data: unknown): data is StatusDocument {
  if (data === null || typeof data !== 'object') return false;
  const doc = data as Partial<StatusDocument>;
  return (
    doc.version === 1 &&
    typeof doc.host === 'string' &&
    typeof doc.now === 'number' &&
    Array.isArray(doc.supervisors) &&
    Array.isArray(doc.processes) &&
    typeof doc.summary === 'object' &&
    Array.isArray(doc.paused) &&
    Array.isArray(doc.recent)
  );
}

/** What the page and /api/fleet use of an agent's status: command lines, policy descriptions and older actions are dropped (in place: the answer was just parsed). */
function trim(doc: StatusDocument, now: number): StatusDocument {
  for (const sv of doc.supervisors) {
    sv.processes ??= [];
    for (const p of sv.processes) delete p.cmdline;
  }
  for (const p of doc.processes) delete p.cmdline;
  doc.config = { files: [], policies: doc.config?.policies ?? 0, errors: doc.config?.errors ?? [] };
  doc.policies = [];
  doc.lasting ??= [];
  doc.recent = doc.recent.filter((r) => r.time >= now - 3600).slice(0, RECENT_KEPT);
  return doc;
}
