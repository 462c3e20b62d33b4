// What `procguard status` reports, built from what it read (a fresh snapshot, the evaluation
// of the policies against it, the state directory and the audit log), and how it reads on a
// terminal. The JSON shape is documented in docs/formats.md ("procguard status --json").

import pc from 'picocolors';
import type { AuditEntry, CollectorError, EngineState, Evaluation, PausedTree, Snapshot } from '../data/types.js';
import { sameStartTime } from '../data/host-index.js';
import { selectorText } from '../policy/hosts.js';
import { kindOf } from '../policy/kinds/index.js';
import type { SupervisorConfig } from '../policy/base.js';
import type { PolicySet } from '../policy/model.js';
import { policyView, type PolicyView } from '../status/board.js';
import { plural, printable, table } from '../shared/text.js';
import { formatBytes, formatDuration, formatPercent } from '../shared/units.js';
import { isoTime } from './history.js';

export interface StatusReport {
  version: 1;
  host: string;
  /** Epoch seconds of the snapshot: the moment every figure below was read. */
  time: number;
  state_dir: string;
  /** The last cycle run with this state directory; null when none has written its state. */
  last_cycle: LastCycle | null;
  supervisors: SupervisorStatus[];
  policies: PolicyStatus[];
  paused: PausedStatus[];
  failing: FailingCondition[];
  /** The collectors that failed while taking the snapshot. */
  errors: CollectorError[];
}

export interface LastCycle {
  /** When the cycle ended: the modification time of STATE_DIR/state.json, which every cycle writes. */
  time: number;
  source: 'state.json';
  /** What it carried out (its entries in the audit log, appended after the state), or null when it carried out nothing. */
  carried_out: { time: number; done: number; failed: number; skipped: number; dropped: number } | null;
  /** Actions and notifications that keep failing after it (a lasting failure reaches the audit log only when it begins and ends). */
  still_failing: number;
}

export interface SupervisorStatus {
  name: string;
  /** "-" for a supervisor that only a snapshot file names. */
  url: string;
  answers: boolean;
  error?: string;
  /** Its programs in the snapshot. */
  programs: number;
}

export interface PolicyStatus {
  name: string;
  kind: string;
  mode: string;
  /** What it enforces, in its kind's words. */
  enforces: string;
  /** Present, false, when its `hosts:` does not select this host: it never acts here. */
  for_this_host?: false;
  /** Its `hosts:` selector in words, when it has one. */
  hosts?: string;
  /** Each matched process with its value, limit and headroom. */
  targets: Array<PolicyView & { target: { pid: number; name: string; namespec?: string; supervisor?: string } }>;
}

export interface PausedStatus {
  policy: string;
  pid: number;
  name: string;
  namespec?: string;
  /** How many processes of the tree are stopped. */
  processes: number;
  since: number;
  /** The top process still runs (same pid and start time). */
  alive: boolean;
}

export interface FailingCondition {
  type: AuditEntry['type'];
  policy: string;
  action?: string;
  to?: string;
  target?: AuditEntry['target'];
  error: string;
  /** When the current run of failures began. */
  first_failed: number;
  last_failed: number;
  attempts: number;
}

export interface StatusInput {
  policySet: PolicySet;
  supervisors: readonly SupervisorConfig[];
  snapshot: Snapshot;
  evaluation: Evaluation;
  stateDir: string;
  paused: readonly PausedTree[];
  /** The state of the last cycle: its lasting conditions and waiting notifications say what keeps failing. */
  state?: Pick<EngineState, 'lasting' | 'pending'>;
  audit: readonly AuditEntry[];
  /** Modification times (epoch seconds) of state.json and audit.log, when they exist. */
  stateWritten?: number;
  auditWritten?: number;
}

export function buildStatusReport(input: StatusInput): StatusReport {
  const { snapshot, evaluation } = input;
  const errors = snapshot.errors ?? [];
  return {
    version: 1,
    host: snapshot.host,
    time: snapshot.time,
    state_dir: input.stateDir,
    last_cycle: lastCycle(input),
    supervisors: supervisorsSeen(input.supervisors, snapshot),
    policies: input.policySet.policies.map((policy) => ({
      name: policy.name,
      kind: policy.kind,
      mode: policy.mode,
      enforces: kindOf(policy.kind).describe(policy),
      ...(evaluation.inactive?.includes(policy.name) ? { for_this_host: false as const } : {}),
      ...(policy.hosts ? { hosts: selectorText(policy.hosts) } : {}),
      targets: evaluation.observations
        .filter((o) => o.policy === policy.name)
        .map((o) => {
          const { pid, name, namespec, supervisor } = o.target;
          // Some kinds measure only what they act on: the planned action carries the figure then.
          const measure = o.measure ?? evaluation.plan.actions.find((a) => a.policy === o.policy && a.target.pid === pid && a.measure !== undefined)?.measure;
          return {
            target: { pid, name, ...(namespec !== undefined ? { namespec } : {}), ...(supervisor !== undefined ? { supervisor } : {}) },
            ...policyView(measure !== undefined ? { ...o, measure } : o),
          };
        }),
    })),
    paused: input.paused.map((tree) => {
      const live = snapshot.processes.find((p) => p.pid === tree.root.pid && p.start_time !== undefined && sameStartTime(p.start_time, tree.root.start_time));
      const namespec = live?.supervisor ? `${live.supervisor.group}:${live.supervisor.name}` : undefined;
      return {
        policy: tree.policy,
        pid: tree.root.pid,
        name: tree.root.name,
        ...(namespec !== undefined ? { namespec } : {}),
        processes: tree.processes.length,
        since: tree.since,
        alive: live !== undefined,
      };
    }),
    failing: input.state?.lasting !== undefined || input.state?.pending !== undefined ? conditionsInState(input.state, snapshot, input.stateWritten) : failingConditions(input.audit, snapshot),
    errors,
  };
}

/** The supervisors configured, and any other a snapshot file names (taken where others were configured). */
function supervisorsSeen(configured: readonly SupervisorConfig[], snapshot: Snapshot): SupervisorStatus[] {
  const errors = snapshot.errors ?? [];
  const programs = (name: string): number => snapshot.processes.filter((p) => p.supervisor?.server === name).length;
  const known = new Set(configured.map((config) => config.name));
  const others = [...new Set(snapshot.processes.flatMap((p) => (p.supervisor && !known.has(p.supervisor.server) ? [p.supervisor.server] : [])))];
  return [
    ...configured.map((config) => {
      const error = errors.find((e) => e.source === `supervisor:${config.name}`)?.message;
      return { name: config.name, url: config.url, answers: error === undefined, ...(error !== undefined ? { error } : {}), programs: programs(config.name) };
    }),
    ...others.map((name) => ({ name, url: '-', answers: true, programs: programs(name) })),
  ];
}

/**
 * Every cycle writes state.json and then appends what it carried out to audit.log: an audit log
 * written no earlier than the state holds the last cycle's entries (the newest ones).
 */
function lastCycle(input: StatusInput): LastCycle | null {
  if (input.stateWritten === undefined) return null;
  const newest = input.audit.reduce((t, e) => Math.max(t, e.time), -Infinity);
  if (input.auditWritten === undefined || input.auditWritten < input.stateWritten || newest === -Infinity) {
    return { time: input.stateWritten, source: 'state.json', carried_out: null, still_failing: stillFailing(input) };
  }
  const batch = input.audit.filter((e) => e.time === newest);
  const count = (status: AuditEntry['status']): number => batch.filter((e) => e.status === status).length;
  return {
    time: input.stateWritten,
    source: 'state.json',
    carried_out: { time: newest, done: count('done'), failed: count('failed'), skipped: count('skipped'), dropped: count('dropped') },
    still_failing: stillFailing(input),
  };
}

function stillFailing(input: StatusInput): number {
  return (input.state?.lasting ?? []).filter((c) => c.kind === 'failing').length + (input.state?.pending?.length ?? 0);
}

/**
 * The actions and notifications whose latest attempt failed, each with the run of failures it
 * is in: the same policy, action (or notifier) and target, oldest entry first. A target that
 * has left the host (its program or its pid gone) is no longer wanted and not listed.
 */
/**
 * What keeps failing, as the state of the last cycle records it: its failing lasting conditions
 * (a failure reaches the audit log only when it begins and ends) and its waiting notifications.
 */
function conditionsInState(state: Pick<EngineState, 'lasting' | 'pending'>, snapshot: Snapshot, lastCycle: number | undefined): FailingCondition[] {
  const actions = (state.lasting ?? [])
    .filter((c) => c.kind === 'failing')
    .map((c): FailingCondition => ({
      type: 'action',
      policy: c.policy,
      action: c.action,
      target: { pid: c.target.pid, name: c.target.name, ...(c.target.namespec !== undefined ? { namespec: c.target.namespec, supervisor: c.target.supervisor } : {}) },
      error: c.error ?? 'failed',
      first_failed: c.first_seen,
      last_failed: c.last_seen,
      attempts: c.attempts,
    }));
  const notifications = (state.pending ?? []).map((p): FailingCondition => ({
    type: 'notification',
    policy: p.notification.policy,
    ...(p.notification.action !== undefined ? { action: p.notification.action } : {}),
    to: p.notification.to,
    ...(p.notification.target !== undefined ? { target: { pid: p.notification.target.pid, name: p.notification.target.name } } : {}),
    error: p.last_error,
    first_failed: p.first_failed,
    // A waiting notification was last tried, or waited for its next try, in the last cycle.
    last_failed: Math.max(p.first_failed, Math.floor(lastCycle ?? p.first_failed)),
    attempts: p.attempts,
  }));
  return [...actions.filter((c) => stillThere(c.target, snapshot)), ...notifications];
}

/** What keeps failing, from the audit log alone (a state written before lasting conditions were kept). */
export function failingConditions(audit: readonly AuditEntry[], snapshot: Snapshot): FailingCondition[] {
  const byKey = new Map<string, FailingCondition | undefined>();
  for (const entry of [...audit].sort((a, b) => a.time - b.time)) {
    const key = conditionKey(entry);
    if (entry.status !== 'failed') {
      byKey.set(key, undefined);
      continue;
    }
    const current = byKey.get(key);
    const error = entry.error ?? entry.reason ?? 'failed';
    byKey.set(
      key,
      current
        ? { ...current, error, last_failed: entry.time, attempts: current.attempts + 1 }
        : {
            type: entry.type,
            policy: entry.policy,
            ...(entry.action !== undefined ? { action: entry.action } : {}),
            ...(entry.to !== undefined ? { to: entry.to } : {}),
            ...(entry.target !== undefined ? { target: entry.target } : {}),
            error,
            first_failed: entry.time,
            last_failed: entry.time,
            attempts: 1,
          },
    );
  }
  return [...byKey.values()].filter((c): c is FailingCondition => c !== undefined && stillThere(c.target, snapshot));
}

function conditionKey(e: AuditEntry): string {
  const target = e.target ? (e.target.namespec !== undefined ? `program:${e.target.supervisor ?? ''}:${e.target.namespec}` : `pid:${e.target.pid}:${e.target.name}`) : '';
  return JSON.stringify([e.type, e.policy, e.action ?? '', e.to ?? '', target]);
}

function stillThere(target: AuditEntry['target'], snapshot: Snapshot): boolean {
  if (!target) return true;
  if (target.namespec !== undefined) {
    return snapshot.processes.some(
      (p) => p.supervisor !== undefined && `${p.supervisor.group}:${p.supervisor.name}` === target.namespec && (target.supervisor === undefined || p.supervisor.server === target.supervisor),
    );
  }
  return snapshot.processes.some((p) => p.pid === target.pid && p.name === target.name);
}

// ---- on a terminal ----

type Colors = ReturnType<typeof pc.createColors>;

export function formatStatusText(report: StatusReport, color: boolean): string {
  const c = pc.createColors(color);
  const ago = (time: number): string => (report.time - time >= 1 ? `${formatDuration(report.time - time)} ago` : 'just now');
  const out: string[] = [`${printable(report.host)} at ${isoTime(report.time)}; state directory ${printable(report.state_dir)}`];

  const last = report.last_cycle;
  if (!last) out.push('last cycle: none has written its state here yet');
  else {
    const done = last.carried_out;
    const what = done
      ? `carried out at ${isoTime(done.time)}: ${[`${done.done} done`, ...(['failed', 'skipped', 'dropped'] as const).filter((s) => done[s] > 0).map((s) => `${done[s]} ${s}`)].join(', ')}`
      : last.still_failing > 0
        ? 'nothing new carried out'
        : 'nothing carried out';
    const failing = last.still_failing > 0 ? `; ${last.still_failing} still failing` : '';
    out.push(`last cycle: ${isoTime(last.time)} (${ago(last.time)}, when state.json was written); ${done && done.failed > 0 ? c.red(what) : what}${failing ? c.red(failing) : ''}`);
  }

  out.push('');
  if (report.supervisors.length === 0) out.push('No supervisor configured.');
  else {
    const rows = report.supervisors.map((s) => [s.name, s.url, String(s.programs), s.answers ? c.green('answers') : c.red(`not answering: ${s.error ?? ''}`)].map((cell) => printable(cell)));
    out.push(...table([['SUPERVISOR', 'URL', 'PROGRAMS', 'STATUS'].map((h) => c.bold(h)), ...rows]));
  }

  for (const policy of report.policies) {
    out.push('');
    const mode = policy.mode === 'audit' ? ', audit' : '';
    if (policy.for_this_host === false) {
      out.push(`${c.bold(printable(policy.name))} (${policy.kind}${mode}): ${c.dim(`not for this host (${printable(policy.hosts ?? '')})`)}`);
      continue;
    }
    const matched = policy.targets.length === 0 ? 'matches no process' : `${policy.targets.length} matched`;
    out.push(`${c.bold(printable(policy.name))} (${policy.kind}${mode}): ${printable(policy.enforces)}; ${matched}`);
    if (policy.targets.length === 0) continue;
    const rows = policy.targets.map((t) => [printable(`${t.target.namespec ?? t.target.name} (pid ${t.target.pid})`), verdictText(t.verdict, c), ...figures(t.headroom), printable(t.detail)]);
    out.push(...table([['TARGET', 'VERDICT', 'VALUE', 'LIMIT', 'HEADROOM', 'DETAIL'].map((h) => c.bold(h)), ...rows]).map((line) => `  ${line}`));
  }

  out.push('');
  if (report.paused.length === 0) out.push('Nothing is paused.');
  else {
    const rows = report.paused.map((p) => [
      printable(`${p.namespec ?? p.name} (pid ${p.pid})`),
      printable(p.policy),
      plural(p.processes, 'process', 'processes') + (p.alive ? '' : ' (gone)'),
      `${isoTime(p.since)} (${ago(p.since)})`,
    ]);
    out.push(...table([['PAUSED', 'POLICY', 'STOPPED', 'SINCE'].map((h) => c.bold(h)), ...rows]));
  }

  out.push('');
  if (report.failing.length === 0) out.push('Nothing is failing.');
  else {
    const rows = report.failing.map((f) =>
      [
        f.type === 'notification' ? `notify ${f.to ?? '?'}` : (f.action ?? '?'),
        f.target ? `${f.target.namespec ?? f.target.name} (pid ${f.target.pid})` : '-',
        f.policy,
        `${isoTime(f.first_failed)} (${ago(f.first_failed)})`,
        String(f.attempts),
        f.error,
      ].map((cell) => printable(cell)),
    );
    out.push(...table([['FAILING', 'TARGET', 'POLICY', 'SINCE', 'ATTEMPTS', 'ERROR'].map((h) => c.bold(h)), ...rows]));
  }

  if (report.errors.length > 0) out.push('');
  for (const error of report.errors) out.push(`${c.red('error')}: ${printable(error.source)}: ${printable(error.message)}`);
  return `${out.join('\n')}\n`;
}

/** VALUE, LIMIT and HEADROOM in the measure's unit; a dash where the policy measured nothing. */
function figures(headroom: PolicyView['headroom']): string[] {
  if (!headroom) return ['-', '-', '-'];
  const { unit } = headroom;
  if (unit === 'oom_score_adj') return [String(headroom.value), `wants ${headroom.limit}`, '-'];
  const shown = (n: number): string => (unit === 'bytes' ? formatBytes(n) : unit === 'seconds' ? formatDuration(n) : unit === 'percent' ? formatPercent(n) : n.toFixed(2));
  const left = headroom.left >= 0 ? shown(headroom.left) : `-${shown(-headroom.left)}`;
  return [shown(headroom.value), shown(headroom.limit), `${left} (${headroom.used_percent}% used)`];
}

function verdictText(verdict: string, c: Colors): string {
  if (verdict === 'act') return c.red('act');
  if (verdict === 'over' || verdict === 'hold') return c.yellow(verdict);
  return c.dim('ok');
}
