// How a plan reads on a terminal: what was looked at, a table of actions and notifications
// with their reasons, warnings and collector errors, and with --verbose every matched
// process against its limit.

import pc from 'picocolors';
import type { Evaluation, Plan, Snapshot } from '../data/types.js';
import { describeTarget, indexSnapshot } from '../data/host-index.js';
import { clearedText } from '../data/lasting.js';
import { selectorText } from '../policy/hosts.js';
import type { PolicySet } from '../policy/model.js';
import { printable } from '../shared/text.js';
import { plural, table } from '../shared/text.js';

export interface PlanTextOptions {
  verbose: boolean;
  color: boolean;
  /** "dry run: nothing was done" for check. */
  footer: string;
  /** Collector errors and warnings ("warning: TEXT") gone since they were reported: `apply --quiet` says so once. */
  clearedProblems?: readonly string[];
}

export function formatPlanText(evaluation: Evaluation, snapshot: Snapshot, policySet: PolicySet, options: PlanTextOptions): string {
  const c = pc.createColors(options.color);
  const { plan } = evaluation;
  const out: string[] = [summaryLine(snapshot, policySet)];

  if (options.verbose) {
    out.push('');
    for (const policy of policySet.policies) {
      const seen = evaluation.observations.filter((o) => o.policy === policy.name);
      const mode = policy.mode === 'audit' ? ', audit' : '';
      if (evaluation.inactive?.includes(policy.name)) {
        out.push(`${c.bold(policy.name)} (${policy.kind}${mode}): ${c.dim(`not for this host (${clean(selectorText(policy.hosts ?? {}))})`)}`);
        continue;
      }
      out.push(`${c.bold(policy.name)} (${policy.kind}${mode}): ${seen.length === 0 ? 'matches no process' : `${seen.length} matched`}`);
      const rows = seen.map((o) => [verdictText(o.verdict, c), clean(describeTarget(o.target)), clean(o.detail)]);
      out.push(...table(rows).map((line) => `  ${line}`));
    }
  }

  out.push('');
  if (plan.actions.length === 0) out.push('No actions.');
  else {
    const rows = plan.actions.map((a) => [
      a.action + (a.value !== undefined ? ` ${a.value}` : a.signal !== undefined ? ` ${a.signal}` : ''),
      clean(describeTarget(a.target)),
      a.policy,
      statusText(a.status, c),
      clean(a.reason + (a.observed !== undefined ? ` (${a.observed})` : '') + outcomeText(a)),
    ]);
    out.push(...table([['ACTION', 'TARGET', 'POLICY', 'STATUS', 'REASON'].map((h) => c.bold(h)), ...rows]));
  }
  if (plan.notifications.length > 0) {
    out.push('');
    const rows = plan.notifications.map((n) => [n.to, n.policy, statusText(n.status, c), clean(n.subject + (n.reason !== undefined ? ` (${n.reason})` : '') + outcomeText(n))]);
    out.push(...table([['NOTIFY', 'POLICY', 'STATUS', 'SUBJECT'].map((h) => c.bold(h)), ...rows]));
  }
  const clearedProblems = options.clearedProblems ?? [];
  if ((plan.cleared ?? []).length + clearedProblems.length > 0) out.push('');
  for (const cleared of plan.cleared ?? []) {
    const what = cleared.kind === 'failing' ? 'no longer failing' : 'audit finding ended';
    out.push(`${c.green('cleared')}: ${clean(`${cleared.action} ${describeTarget(cleared.target)} by ${cleared.policy}: ${what}: ${clearedText(cleared)}`)}`);
  }
  for (const problem of clearedProblems) out.push(`${c.green('cleared')}: ${clean(problem)}`);
  if ((plan.warnings ?? []).length > 0 || plan.errors.length > 0) out.push('');
  for (const warning of plan.warnings ?? []) out.push(`${c.yellow('warning')}: ${clean(warning)}`);
  for (const error of plan.errors) out.push(`${c.red('error')}: ${error.source}: ${clean(error.message)}`);
  out.push('', closingLine(plan, options.footer));
  return `${out.join('\n')}\n`;
}

function summaryLine(snapshot: Snapshot, policySet: PolicySet): string {
  const running = snapshot.processes.filter((p) => p.pid > 0).length;
  const untouchable = indexSnapshot(snapshot).untouchable.size;
  const never = untouchable > 0 ? ` (${untouchable} never matched: init, kernel threads, procguard and its parents)` : '';
  const servers = new Map<string, number>();
  for (const p of snapshot.processes) if (p.supervisor) servers.set(p.supervisor.server, (servers.get(p.supervisor.server) ?? 0) + 1);
  const supervisors = servers.size === 0 ? 'no supervisor programs' : [...servers].map(([name, n]) => `supervisor ${name}: ${plural(n, 'program')}`).join(', ');
  const load = snapshot.load ? `load ${snapshot.load.map((l) => l.toFixed(2)).join(' ')}` : 'load unknown';
  const when = new Date(snapshot.time * 1000).toISOString().replace('.000Z', 'Z');
  return `${clean(snapshot.host)} at ${when}: ${plural(running, 'process', 'processes')}${never}, ${load}, ${supervisors}; ${plural(policySet.policies.length, 'policy', 'policies')}`;
}

function closingLine(plan: Plan, footer: string): string {
  const count = (status: string): number => plan.actions.filter((a) => a.status === status).length;
  const parts: string[] = [];
  // check always says how many are planned; apply reports what became of them.
  if (footer || count('planned') > 0) parts.push(`${plural(count('planned'), 'action')} planned`);
  for (const status of ['done', 'failed', 'skipped']) if (count(status) > 0) parts.push(`${parts.length === 0 ? plural(count(status), 'action') : count(status)} ${status}`);
  if (parts.length === 0) parts.push('no actions');
  const failedNotifications = plan.notifications.filter((n) => n.status === 'failed').length;
  parts.push(plural(plan.notifications.length, 'notification') + (failedNotifications > 0 ? ` (${failedNotifications} failed)` : ''));
  if (plan.errors.length > 0) parts.push(plural(plan.errors.length, 'collector error'));
  return `${parts.join(', ')}${footer ? ` (${footer})` : ''}`;
}

/** What carrying it out gave (apply): the adapter's result or the error. */
function outcomeText(entry: { result?: string; error?: string }): string {
  if (entry.error !== undefined) return ` → ${entry.error}`;
  return entry.result !== undefined ? ` → ${entry.result}` : '';
}

type Colors = ReturnType<typeof pc.createColors>;

function statusText(status: string, c: Colors): string {
  if (status === 'planned' || status === 'done') return c.green(status);
  if (status === 'failed') return c.red(status);
  return c.yellow(status);
}

function verdictText(verdict: string, c: Colors): string {
  if (verdict === 'act') return c.red('act');
  if (verdict === 'over' || verdict === 'hold') return c.yellow(verdict);
  return c.dim('ok');
}

/** Process names and command lines are the host's data: one line each, control characters shown escaped. */
function clean(text: string): string {
  return printable(text);
}
