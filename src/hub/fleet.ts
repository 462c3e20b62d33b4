// The fleet as the page and /api/fleet show it: each agent up (answered the last time it was
// asked), stale (did not, and its last answer is shown with its age) or offline (no answer for
// OFFLINE_AFTER_INTERVALS intervals, or never); the counts over the hosts shown; the query
// string's filters (label, search, host, state) and order (name, or least headroom first).

import type { ProcessView, StatusDocument, SupervisorView } from '../status/board.js';
import { redactUrlPassword } from '../shared/text.js';
import type { AgentState } from './poll.js';

/** An agent that has not answered for this many intervals (plus the timeout) is offline. */
export const OFFLINE_AFTER_INTERVALS = 3;
/** With more hosts than this chosen, each lists only its programs that need a look (page and /api/fleet alike). */
export const FULL_LISTING_HOSTS = 20;
/** Programs listed per host then: those with the least headroom, and any over a limit, paused or not running, up to MAX_LISTED. */
export const PROGRAMS_PER_HOST = 5;
const MAX_LISTED = 20;

export type HostState = 'up' | 'stale' | 'offline';

export interface FleetSummary {
  hosts: { up: number; stale: number; offline: number };
  /** supervisord programs on the hosts that are up or stale, by their last answer. */
  programs: number;
  over_limit: number;
  /** Process trees paused. */
  paused: number;
  /** Lasting failures and notifications waiting to be sent again. */
  failing: number;
  /** Actions carried out or failed in the last hour. */
  actions_last_hour: number;
}

export interface FleetHost {
  name: string;
  /** Shown with any password as ***. */
  url: string;
  labels: Record<string, string>;
  state: HostState;
  /** Epoch seconds of the last answer, and how long ago it was. */
  last_answer?: number;
  age?: number;
  /** Why the last attempt failed. */
  error?: string;
  /** How long the last attempt took. */
  poll_ms?: number;
  /** The most used share of a limit among its programs: the least headroom left. */
  least_headroom?: { used_percent: number; program: string; policy: string };
  /** The agent's last answer (its /api/status, without command lines and policy descriptions), when it ever answered. */
  status?: StatusDocument;
  /** Present when `status` lists only some of the host's programs (more than FULL_LISTING_HOSTS hosts chosen): how many it has. */
  listed?: { programs: number; of: number };
}

export interface FleetDocument {
  version: 1;
  /** Epoch seconds. */
  now: number;
  /** Seconds. */
  interval: number;
  timeout: number;
  last_round?: { started: number; duration_ms: number; agents: number };
  /** The query that chose and ordered the hosts. */
  query: FleetQuery;
  summary: FleetSummary;
  hosts: FleetHost[];
}

export interface FleetQuery {
  /** NAME:VALUE pairs the host's labels must all have. */
  label: string[];
  /** Part of a host name or program name (namespec), any case. */
  q?: string;
  /** One host by name: every program listed. */
  host?: string;
  state?: HostState;
  /** The label hosts are grouped by on the page. */
  group?: string;
  sort: 'name' | 'headroom';
}

export function parseQuery(params: URLSearchParams): FleetQuery {
  const text = (name: string): string | undefined => {
    const value = params.get(name)?.trim();
    return value ? value.slice(0, 200) : undefined;
  };
  const state = text('state');
  const q = text('q');
  const host = text('host');
  const group = text('group');
  return {
    label: params
      .getAll('label')
      .map((l) => l.trim())
      .filter((l) => l.includes(':'))
      .slice(0, 20),
    ...(q ? { q } : {}),
    ...(host ? { host } : {}),
    ...(state === 'up' || state === 'stale' || state === 'offline' ? { state } : {}),
    ...(group ? { group } : {}),
    sort: text('sort') === 'headroom' ? 'headroom' : 'name',
  };
}

export interface FleetTiming {
  intervalMs: number;
  timeoutMs: number;
  lastRound?: { started: number; durationMs: number; asked: number };
}

export function stateOf(agent: AgentState, nowMs: number, timing: FleetTiming): HostState {
  if (agent.lastAnswer === undefined) return 'offline';
  const age = nowMs - agent.lastAnswer;
  if (age > OFFLINE_AFTER_INTERVALS * timing.intervalMs + timing.timeoutMs) return 'offline';
  if (agent.lastAttempt?.error !== undefined) return 'stale';
  // Answered, but not asked again in time (the hub itself was held up).
  return age > 2 * timing.intervalMs + timing.timeoutMs ? 'stale' : 'up';
}

export function fleetDocument(agents: readonly AgentState[], nowMs: number, timing: FleetTiming, query: FleetQuery): FleetDocument {
  const now = Math.floor(nowMs / 1000);
  const all = agents.map((agent) => hostOf(agent, nowMs, timing));
  const chosen = all.filter((host) => selected(host, query)).map((host) => narrowed(host, query));
  const hosts = chosen.length > FULL_LISTING_HOSTS ? chosen.map(shortened) : chosen;
  if (query.sort === 'headroom') hosts.sort((a, b) => (b.least_headroom?.used_percent ?? -1) - (a.least_headroom?.used_percent ?? -1) || compareText(a.name, b.name));
  else hosts.sort((a, b) => compareText(a.name, b.name));
  return {
    version: 1,
    now,
    interval: timing.intervalMs / 1000,
    timeout: timing.timeoutMs / 1000,
    ...(timing.lastRound ? { last_round: { started: Math.floor(timing.lastRound.started / 1000), duration_ms: timing.lastRound.durationMs, agents: timing.lastRound.asked } } : {}),
    query,
    summary: summaryOf(chosen, now),
    hosts,
  };
}

function hostOf(agent: AgentState, nowMs: number, timing: FleetTiming): FleetHost {
  const state = stateOf(agent, nowMs, timing);
  const status = agent.status;
  return {
    name: agent.agent.name,
    url: redactUrlPassword(agent.agent.url),
    labels: agent.agent.labels,
    state,
    ...(agent.lastAnswer !== undefined ? { last_answer: Math.floor(agent.lastAnswer / 1000), age: Math.max(0, Math.floor((nowMs - agent.lastAnswer) / 1000)) } : {}),
    ...(agent.lastAttempt?.error !== undefined ? { error: agent.lastAttempt.error } : agent.lastAttempt === undefined ? { error: 'not asked yet' } : {}),
    ...(agent.lastAttempt ? { poll_ms: agent.lastAttempt.durationMs } : {}),
    ...(status ? digestOf(status).least : {}),
    ...(status ? { status } : {}),
  };
}

function selected(host: FleetHost, query: FleetQuery): boolean {
  if (query.host !== undefined && host.name !== query.host) return false;
  if (query.state !== undefined && host.state !== query.state) return false;
  for (const pair of query.label) {
    const at = pair.indexOf(':');
    if (host.labels[pair.slice(0, at)] !== pair.slice(at + 1)) return false;
  }
  if (query.q === undefined) return true;
  const q = query.q.toLowerCase();
  return host.name.toLowerCase().includes(q) || programs(host).some((p) => programName(p).toLowerCase().includes(q));
}

/** A search that matched programs, not the host's name, leaves only those programs. */
function narrowed(host: FleetHost, query: FleetQuery): FleetHost {
  const q = query.q?.toLowerCase();
  if (q === undefined || host.name.toLowerCase().includes(q) || !host.status) return host;
  const keep = (p: ProcessView) => programName(p).toLowerCase().includes(q);
  const status: StatusDocument = {
    ...host.status,
    supervisors: host.status.supervisors.map((sv) => ({ ...sv, processes: sv.processes.filter(keep) })),
    processes: host.status.processes.filter(keep),
  };
  return { ...host, status, ...leastHeadroom(status) };
}

/** The programs of a host that need a look, and the few with the least headroom. */
function shortened(host: FleetHost): FleetHost {
  if (!host.status) return host;
  const digest = digestOf(host.status);
  if (digest.count <= PROGRAMS_PER_HOST) return host;
  // The same object for every request until the agent answers again, so the page can keep what it drew of it.
  const full = host.status;
  digest.short ??= {
    ...full,
    supervisors: full.supervisors.map((sv) => ({ ...sv, processes: sv.processes.filter((p) => digest.keep.has(p)) })),
    processes: full.processes.filter((p) => digest.keep.has(p)),
  };
  return { ...host, status: digest.short, listed: { programs: digest.keep.size, of: digest.count } };
}

/** What every request needs of an answer, worked out once per answer (each is replaced, never changed, when the agent answers again). */
interface Digest {
  least: Pick<FleetHost, 'least_headroom'>;
  count: number;
  /** The programs a shortened listing keeps, and the answer with only those. */
  keep: Set<ProcessView>;
  short?: StatusDocument;
}

const digests = new WeakMap<StatusDocument, Digest>();

function digestOf(status: StatusDocument): Digest {
  let digest = digests.get(status);
  if (digest) return digest;
  const all = [...status.supervisors.flatMap((sv) => sv.processes), ...status.processes];
  const needsLook = (p: ProcessView) =>
    p.paused !== undefined || (p.state !== undefined && !['RUNNING', 'S', 'R', 'D', 'I'].includes(p.state)) || (p.policies ?? []).some((policy) => policy.verdict !== 'ok');
  const byHeadroom = [...all].sort((a, b) => (usedPercent(b) ?? -1) - (usedPercent(a) ?? -1));
  const keep = new Set([...all.filter(needsLook), ...byHeadroom.slice(0, PROGRAMS_PER_HOST)].slice(0, MAX_LISTED));
  digest = { least: leastHeadroom(status), count: all.length, keep };
  digests.set(status, digest);
  return digest;
}

function summaryOf(hosts: readonly FleetHost[], now: number): FleetSummary {
  const summary: FleetSummary = { hosts: { up: 0, stale: 0, offline: 0 }, programs: 0, over_limit: 0, paused: 0, failing: 0, actions_last_hour: 0 };
  for (const host of hosts) {
    summary.hosts[host.state] += 1;
    const status = host.status;
    if (!status || host.state === 'offline') continue;
    summary.programs += status.supervisors.reduce((sum, sv) => sum + sv.processes.length, 0);
    summary.over_limit += status.summary?.over_limit ?? 0;
    summary.paused += status.paused.length;
    summary.failing += status.summary?.failing ?? 0;
    summary.actions_last_hour += status.recent.filter((r) => r.type === 'action' && r.time >= now - 3600 && (r.status === 'done' || r.status === 'failed')).length;
  }
  return summary;
}

export function programs(host: FleetHost): ProcessView[] {
  if (!host.status) return [];
  return [...host.status.supervisors.flatMap((sv: SupervisorView) => sv.processes), ...host.status.processes];
}

export function programName(p: ProcessView): string {
  return p.namespec ?? p.name;
}

/** The most used share of a limit among the program's policies; undefined when none measures one. */
export function usedPercent(p: ProcessView): number | undefined {
  let most: number | undefined;
  for (const policy of p.policies ?? []) {
    const used = policy.headroom?.used_percent;
    if (used !== undefined && (most === undefined || used > most)) most = used;
  }
  return most;
}

function leastHeadroom(status: StatusDocument): Pick<FleetHost, 'least_headroom'> {
  let best: FleetHost['least_headroom'];
  for (const p of [...status.supervisors.flatMap((sv) => sv.processes), ...status.processes]) {
    for (const policy of p.policies ?? []) {
      const used = policy.headroom?.used_percent;
      if (used !== undefined && (best === undefined || used > best.used_percent)) best = { used_percent: used, program: programName(p), policy: policy.policy };
    }
  }
  return best ? { least_headroom: best } : {};
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
