// What the daemon knows, for people and machines: the last cycle's view of every supervisor
// and of each process a policy matched (with its headroom to the limit), what is paused and
// since when, the recent actions and notifications with their reasons, and the config load
// errors. Fed by the service after every cycle and reload; read by the status page and the API.

import { hostIdentity, selectorText, selectsHost } from '../policy/hosts.js';
import { kindOf } from '../policy/kinds/index.js';
import { supervisorsToAsk } from '../supervisord/connect.js';
import { clearedText, isRepeat, RETRY_AT_LEAST_EVERY } from '../data/lasting.js';
import type { ClearedCondition, LastingCondition, Measure, Observation, ProcessEntry } from '../data/types.js';
import type { PlannedAction, PlannedNotification, Target } from '../data/plan.generated.js';
import type { CycleResult } from '../modes/cycle.js';
import type { Service, ServiceObserver } from '../modes/service.js';

/** How many recent actions and notifications the page keeps. */
const RECENT = 50;

export interface PolicyView {
  policy: string;
  verdict: Observation['verdict'];
  detail: string;
  /** Room left before the limit (negative: over it), for memory and runtime policies. */
  headroom?: {
    value: number;
    limit: number;
    left: number;
    unit: Measure['unit'];
    used_percent: number;
    /** What was measured where a kind measures more than one: rss, pss, uss, swap. */
    name?: string;
    /** The limit as written, in percent of the host's memory; `limit` is its bytes. */
    limit_percent?: number;
  };
}

export interface ProcessView {
  pid: number;
  name: string;
  namespec?: string;
  /** supervisord's state name for its programs; the kernel's state letter otherwise. */
  state?: string;
  uptime?: number;
  rss?: number;
  cmdline?: string;
  /** Stopped by a load policy: which, and since when (epoch seconds). */
  paused?: { policy: string; since: number };
  policies: PolicyView[];
}

export interface SupervisorView {
  name: string;
  url: string;
  /** Why the last cycle could not read it. */
  error?: string;
  /** Since when (epoch seconds) and for how many cycles in a row it has not answered. */
  unanswered?: { since: number; cycles: number };
  /** What the operator should fix, e.g. that it is the same supervisord as another entry. */
  warning?: string;
  /** Sorted by namespec. */
  processes: ProcessView[];
}

/** The counts the page starts with. */
export interface StatusSummary {
  supervisors: { up: number; down: number };
  /** supervisord programs, running or not. */
  programs: number;
  /** Processes over a policy's limit in the last cycle. */
  over_limit: number;
  /** Process trees paused now. */
  paused: number;
  /** Actions and notifications that failed in the last cycle. */
  failing: number;
}

export interface RecentEntry {
  /** Epoch seconds of the cycle. */
  time: number;
  type: 'action' | 'notification';
  policy: string;
  /** restart, stop, pause, …; for a notification, the notifier. */
  what: string;
  target?: Target;
  /** cleared: a lasting condition ended (its `reason` says why, for how long, how often). */
  status: PlannedAction['status'] | 'cleared';
  reason?: string;
  error?: string;
  result?: string;
}

export interface StatusDocument {
  version: 1;
  host: string;
  /** Epoch seconds. */
  now: number;
  started: number;
  cycles: number;
  last_cycle?: { time: number; duration_ms: number; processes: number; errors: { source: string; message: string }[] };
  last_failure?: { time: number; message: string };
  summary: StatusSummary;
  /** The last cycle's warnings: conflicts and configuration the operator should fix. */
  warnings: string[];
  config: { files: string[]; policies: number; errors: string[]; last_reload?: { time: number; trigger: string; ok: boolean } };
  supervisors: SupervisorView[];
  /** Matched by a policy and not supervised; sorted by name, command line, pid. */
  processes: ProcessView[];
  /** Every policy in force: what it enforces (in its kind's words) and how many processes it matched in the last cycle. */
  policies: PolicySummary[];
  /** namespec: the supervisord program the paused process is, when it is one. */
  paused: { policy: string; pid: number; name: string; namespec?: string; processes: number; since: number }[];
  /** Conditions that last (an action failing with the same error, an audit-mode finding): one row each, not one per cycle in `recent`. */
  lasting: LastingView[];
  recent: RecentEntry[];
}

export interface LastingView {
  kind: LastingCondition['kind'];
  policy: string;
  action: string;
  target: Target;
  /** Epoch seconds. */
  first_seen: number;
  last_seen: number;
  /** Attempts made (failing); cycles it was found in (audit). */
  attempts: number;
  error?: string;
  /** failing: cycles skipped before the next attempt, and the time by which it is made at the latest. */
  next_attempt?: { in_cycles: number; by: number };
}

export interface PolicySummary {
  name: string;
  kind: string;
  mode: string;
  enforces: string;
  matched: number;
  /** Its hosts: selector in words, when it has one. */
  hosts?: string;
  /** false when its hosts: selector leaves this host out: it never acts here. */
  for_this_host?: false;
}

export class StatusBoard implements ServiceObserver {
  private readonly started = nowSeconds();
  private last?: { result: CycleResult; durationMs: number };
  private lastFailure?: { time: number; message: string };
  private lastReload?: { time: number; trigger: string; ok: boolean };
  private configErrors: string[] = [];
  private recent: RecentEntry[] = [];
  /** The supervisors that did not answer the last cycle: since when, and for how many cycles in a row. */
  private unanswered = new Map<string, { since: number; cycles: number }>();

  constructor(
    private readonly service: Service,
    private readonly env: NodeJS.ProcessEnv,
    private readonly host: string,
  ) {}

  cycleDone(result: CycleResult, durationMs: number): void {
    this.last = { result, durationMs };
    const { plan } = result.execution;
    const failed = new Set((result.snapshot.errors ?? []).filter((e) => e.source.startsWith('supervisor:')).map((e) => e.source.slice('supervisor:'.length)));
    for (const name of this.unanswered.keys()) if (!failed.has(name)) this.unanswered.delete(name);
    for (const name of failed) {
      const before = this.unanswered.get(name);
      this.unanswered.set(name, { since: before?.since ?? result.snapshot.time, cycles: (before?.cycles ?? 0) + 1 });
    }
    // A lasting condition is a row of `lasting`; here only when it begins and when it ends.
    const repeated = (n: PlannedNotification): boolean => n.action_index !== undefined && n.status === 'skipped' && isRepeat(plan.actions[n.action_index] ?? {});
    const entries: RecentEntry[] = [
      ...plan.actions.filter((a) => (a.status !== 'skipped' || a.mode === 'audit') && !isRepeat(a)).map((a) => actionEntry(plan.time, a)),
      ...(plan.cleared ?? []).map((c) => clearedEntry(plan.time, c)),
      ...plan.notifications.filter((n) => !repeated(n) && !isRepeat(n)).map((n) => notificationEntry(plan.time, n)),
    ];
    this.recent = [...entries.reverse(), ...this.recent].slice(0, RECENT);
  }

  cycleFailed(message: string): void {
    this.lastFailure = { time: nowSeconds(), message };
  }

  reloaded(trigger: string, ok: boolean, messages: readonly string[]): void {
    this.lastReload = { time: nowSeconds(), trigger, ok };
    this.configErrors = ok ? [] : [...messages];
  }

  status(): StatusDocument {
    const { policySet, files } = this.service.config;
    const snapshot = this.last?.result.snapshot;
    const observations = this.last?.result.evaluation.observations ?? [];
    const byPid = new Map<number, PolicyView[]>();
    for (const observation of observations) {
      const views = byPid.get(observation.target.pid) ?? [];
      views.push(policyView(observation));
      byPid.set(observation.target.pid, views);
    }
    const time = snapshot?.time ?? nowSeconds();
    const processes = snapshot?.processes ?? [];
    const paused = this.last?.result.state.paused ?? [];
    const pausedPids = new Map(paused.flatMap((tree) => tree.processes.map((p) => [p.pid, { policy: tree.policy, since: tree.since }] as const)));
    const view = (p: ProcessEntry): ProcessView => processView(p, time, byPid, pausedPids);
    const supervisors = supervisorsToAsk(policySet.supervisors, this.env).map((config): SupervisorView => {
      const source = `supervisor:${config.name}`;
      const error = snapshot?.errors?.find((e) => e.source === source)?.message;
      const warning = snapshot?.warnings?.find((w) => w.source === source)?.message;
      const unanswered = this.unanswered.get(config.name);
      return {
        name: config.name,
        url: config.url,
        ...(error !== undefined ? { error } : {}),
        ...(unanswered ? { unanswered: { ...unanswered } } : {}),
        ...(warning !== undefined ? { warning } : {}),
        processes: processes
          .filter((p) => p.supervisor?.server === config.name)
          .map(view)
          .sort((a, b) => compareText(a.namespec ?? a.name, b.namespec ?? b.name) || a.pid - b.pid),
      };
    });
    const unsupervised = processes
      .filter((p) => !p.supervisor && byPid.has(p.pid))
      .map(view)
      .sort((a, b) => compareText(a.name, b.name) || compareText(a.cmdline ?? '', b.cmdline ?? '') || a.pid - b.pid);
    const plan = this.last?.result.execution.plan;
    const byPidEntry = new Map(processes.filter((p) => p.pid > 0).map((p) => [p.pid, p]));
    return {
      version: 1,
      host: snapshot?.host ?? this.host,
      now: nowSeconds(),
      started: this.started,
      cycles: this.service.cycles,
      ...(this.last && snapshot
        ? {
            last_cycle: {
              time: snapshot.time,
              duration_ms: Math.round(this.last.durationMs * 10) / 10,
              processes: processes.filter((p) => p.pid > 0).length,
              errors: snapshot.errors ?? [],
            },
          }
        : {}),
      ...(this.lastFailure ? { last_failure: this.lastFailure } : {}),
      summary: {
        supervisors: { up: supervisors.filter((sv) => sv.error === undefined).length, down: supervisors.filter((sv) => sv.error !== undefined).length },
        programs: supervisors.reduce((sum, sv) => sum + sv.processes.length, 0),
        over_limit: new Set(observations.filter((o) => o.verdict !== 'ok').map((o) => o.target.pid)).size,
        paused: paused.length,
        // What keeps failing: the lasting failures and the notifications waiting to be sent again.
        failing: (this.last?.result.state.lasting ?? []).filter((c) => c.kind === 'failing').length + (this.last?.result.state.pending?.length ?? 0),
      },
      warnings: plan?.warnings ?? [],
      config: {
        files: [...files],
        policies: policySet.policies.length,
        errors: this.configErrors,
        ...(this.lastReload ? { last_reload: this.lastReload } : {}),
      },
      supervisors,
      processes: unsupervised,
      policies: policySet.policies.map((policy) => ({
        name: policy.name,
        kind: policy.kind,
        mode: policy.mode,
        enforces: kindOf(policy.kind).describe(policy),
        matched: observations.filter((o) => o.policy === policy.name).length,
        ...(policy.hosts ? { hosts: selectorText(policy.hosts) } : {}),
        ...(snapshot && !selectsHost(policy.hosts, hostIdentity(policySet, snapshot.host)) ? { for_this_host: false as const } : {}),
      })),
      paused: paused.map((tree) => {
        const program = byPidEntry.get(tree.root.pid)?.supervisor;
        return {
          policy: tree.policy,
          pid: tree.root.pid,
          name: tree.root.name,
          ...(program ? { namespec: `${program.group}:${program.name}` } : {}),
          processes: tree.processes.length,
          since: tree.since,
        };
      }),
      lasting: (this.last?.result.state.lasting ?? []).map(lastingView),
      recent: this.recent,
    };
  }
}

function processView(process: ProcessEntry, time: number, byPid: Map<number, PolicyView[]>, pausedPids: ReadonlyMap<number, { policy: string; since: number }>): ProcessView {
  const sv = process.supervisor;
  // The process' own start time, not supervisord's word for it.
  const started = process.start_time;
  return {
    pid: process.pid,
    name: sv?.name ?? process.name ?? '?',
    ...(sv ? { namespec: `${sv.group}:${sv.name}` } : {}),
    ...(sv ? { state: sv.statename } : process.state !== undefined ? { state: process.state } : {}),
    ...(process.pid > 0 && started !== undefined ? { uptime: Math.max(0, Math.floor(time - started)) } : {}),
    ...(process.rss !== undefined ? { rss: process.rss } : {}),
    ...(process.cmdline !== undefined ? { cmdline: process.cmdline } : {}),
    ...(process.pid > 0 && pausedPids.has(process.pid) ? { paused: { ...pausedPids.get(process.pid)! } } : {}),
    policies: process.pid > 0 ? (byPid.get(process.pid) ?? []) : [],
  };
}

export function policyView(observation: Observation): PolicyView {
  const { measure } = observation;
  return {
    policy: observation.policy,
    verdict: observation.verdict,
    detail: observation.detail,
    ...(measure
      ? {
          headroom: {
            value: measure.value,
            limit: measure.limit,
            left: measure.limit - measure.value,
            unit: measure.unit,
            used_percent: measure.limit > 0 ? Math.round((measure.value / measure.limit) * 1000) / 10 : 100,
            ...(measure.name !== undefined ? { name: measure.name } : {}),
            ...(measure.limit_percent !== undefined ? { limit_percent: measure.limit_percent } : {}),
          },
        }
      : {}),
  };
}

function actionEntry(time: number, a: PlannedAction): RecentEntry {
  return {
    time,
    type: 'action',
    policy: a.policy,
    what: a.action + (a.value !== undefined ? ` ${a.value}` : a.signal !== undefined ? ` ${a.signal}` : ''),
    target: a.target,
    status: a.status,
    reason: a.reason,
    ...(a.error !== undefined ? { error: a.error } : {}),
    ...(a.result !== undefined ? { result: a.result } : {}),
  };
}

function lastingView(record: LastingCondition): LastingView {
  return {
    kind: record.kind,
    policy: record.policy,
    action: record.action,
    target: record.target,
    first_seen: record.first_seen,
    last_seen: record.last_seen,
    attempts: record.attempts,
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.kind === 'failing' ? { next_attempt: { in_cycles: (record.skip_cycles ?? 0) + 1, by: record.retry_by ?? record.last_seen + RETRY_AT_LEAST_EVERY } } : {}),
  };
}

function clearedEntry(time: number, c: ClearedCondition): RecentEntry {
  return { time, type: 'action', policy: c.policy, what: c.action, target: c.target, status: 'cleared', reason: clearedText(c) };
}

function notificationEntry(time: number, n: PlannedNotification): RecentEntry {
  return {
    time,
    type: 'notification',
    policy: n.policy,
    what: `notify ${n.to}`,
    ...(n.target ? { target: n.target } : {}),
    status: n.status,
    reason: n.subject,
    ...(n.error !== undefined ? { error: n.error } : {}),
    ...(n.result !== undefined ? { result: n.result } : {}),
  };
}

/** The same order on every host and every run, whatever the locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
