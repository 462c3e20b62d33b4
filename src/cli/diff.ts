// `procguard diff -c NEW --base OLD_DIR|GIT_REV --snapshots DIR|FILE… [--format F]`: what a
// change to the policies does, host by host: the policies added, removed or changed (a limit
// from one value to another), the actions that appear or disappear, the processes newly matched
// or no longer matched. For review: text, JSON, Markdown (a pull-request comment) or GitHub
// annotations on the changed policies' lines.
// Exit: 0 no difference, 1 differences, 2 invalid policies, usage or a broken snapshot.

import { readFileSync } from 'node:fs';
import type { Observation, PlannedAction } from '../data/types.js';
import { describeTarget } from '../data/host-index.js';
import { kindOf } from '../policy/kinds/index.js';
import { selectorText } from '../policy/hosts.js';
import type { Policy, PolicySet } from '../policy/model.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { jsonText, plural, printable } from '../shared/text.js';
import { formatBytes, formatDuration } from '../shared/units.js';
import { loadConfiguration } from './context.js';
import { planHosts, readHostSnapshots, type HostPlan } from './fleet.js';
import { resolveBase } from './git-base.js';
import { checkFormat, githubCommandLine, markdownCell, repositoryPath } from './report-formats.js';

export const DIFF_FORMATS = ['text', 'json', 'markdown', 'github'] as const;

export interface DiffOptions {
  config: string[];
  base: string;
  snapshots: string[];
  json?: boolean;
  format?: string;
}

export interface PolicyChange {
  policy: string;
  change: 'added' | 'removed' | 'changed';
  /** What it enforces (and for which hosts), before and after. */
  before?: string;
  after?: string;
  /** A limit that moved: "250.0 MiB → 200.0 MiB". */
  limit?: string;
  /** Where it is written in the new policies (added, changed) or the old (removed). */
  file: string;
  line: number;
  column: number;
}

export interface ActionChange {
  policy: string;
  action: string;
  target: string;
  reason: string;
  status: string;
}

export interface HostDiff {
  host: string;
  file: string;
  error?: string;
  /** Actions the new policies plan that the old did not. */
  appear: ActionChange[];
  /** Actions the old policies planned that the new do not. */
  disappear: ActionChange[];
  newly_matched: Array<{ policy: string; target: string }>;
  no_longer_matched: Array<{ policy: string; target: string }>;
}

export interface FleetDiff {
  version: 1;
  base: string;
  policies: PolicyChange[];
  hosts: HostDiff[];
  /** One line per policy change with what it now does on which hosts, as a reviewer reads it. */
  summary: string[];
}

export async function runDiff(options: DiffOptions, io: CliIo): Promise<ExitCode> {
  const format = checkFormat('diff', options.json ? 'json' : (options.format ?? 'text'), DIFF_FORMATS);
  const after = await loadConfiguration(options.config, io);
  const base = await resolveBase(options.base, options.config, io.cwd);
  try {
    const before = await loadConfiguration(base.paths, io).catch((error: unknown) => {
      io.stderr(`procguard: the base policies (${base.label}) are invalid\n`);
      throw error;
    });
    const hosts = await readHostSnapshots(options.snapshots);
    const diff = diffFleet(before, after, planHosts(before, hosts), planHosts(after, hosts), base.label, (path) => repositoryPath(path, io.cwd), base.paths);
    if (format === 'json') io.stdout(`${jsonText(diff)}\n`);
    else if (format === 'markdown') io.stdout(diffMarkdown(diff));
    else if (format === 'github') io.stdout(diffGithub(diff));
    else io.stdout(diffText(diff));
    if (diff.hosts.some((h) => h.error !== undefined)) return ExitCode.INVALID;
    return changed(diff) ? ExitCode.ACTIONS_PLANNED : ExitCode.OK;
  } finally {
    await base.dispose();
  }
}

function changed(diff: FleetDiff): boolean {
  return diff.policies.length > 0 || diff.hosts.some((h) => h.appear.length + h.disappear.length + h.newly_matched.length + h.no_longer_matched.length > 0);
}

export function diffFleet(
  before: PolicySet,
  after: PolicySet,
  oldPlans: readonly HostPlan[],
  newPlans: readonly HostPlan[],
  baseLabel: string,
  shown: (path: string) => string,
  basePaths: readonly string[] = [],
): FleetDiff {
  const policies = policyChanges(before, after, oldPlans, newPlans, shown, basePaths);
  const hosts = newPlans.map((now, i): HostDiff => {
    const was = oldPlans[i]!;
    if (now.problem !== undefined) return { host: now.host, file: shown(now.file), error: now.problem, appear: [], disappear: [], newly_matched: [], no_longer_matched: [] };
    const oldActions = new Map(was.plan.actions.map((a) => [actionKey(a), a]));
    const newActions = new Map(now.plan.actions.map((a) => [actionKey(a), a]));
    const oldMatched = new Map((was.evaluation?.observations ?? []).map((o) => [matchKey(o), o]));
    const newMatched = new Map((now.evaluation?.observations ?? []).map((o) => [matchKey(o), o]));
    return {
      host: now.host,
      file: shown(now.file),
      appear: [...newActions].filter(([key]) => !oldActions.has(key)).map(([, a]) => actionChange(a)),
      disappear: [...oldActions].filter(([key]) => !newActions.has(key)).map(([, a]) => actionChange(a)),
      newly_matched: [...newMatched].filter(([key]) => !oldMatched.has(key)).map(([, o]) => ({ policy: o.policy, target: describeTarget(o.target) })),
      no_longer_matched: [...oldMatched].filter(([key]) => !newMatched.has(key)).map(([, o]) => ({ policy: o.policy, target: describeTarget(o.target) })),
    };
  });
  return { version: 1, base: baseLabel, policies, hosts, summary: summaryLines(policies, hosts) };
}

/** An action is the same when the same policy does the same thing to the same target with the same outcome. */
function actionKey(a: PlannedAction): string {
  return [a.policy, a.action, a.target.namespec ?? `${a.target.name}/${a.target.pid}`, a.status].join('\0');
}

function matchKey(o: Observation): string {
  return [o.policy, o.target.namespec ?? `${o.target.name}/${o.target.pid}`].join('\0');
}

function actionChange(a: PlannedAction): ActionChange {
  return {
    policy: a.policy,
    action: a.action + (a.value !== undefined ? ` ${a.value}` : a.signal !== undefined ? ` ${a.signal}` : ''),
    target: describeTarget(a.target),
    reason: a.reason,
    status: a.status,
  };
}

function policyChanges(
  before: PolicySet,
  after: PolicySet,
  oldPlans: readonly HostPlan[],
  newPlans: readonly HostPlan[],
  shown: (path: string) => string,
  basePaths: readonly string[],
): PolicyChange[] {
  const old = new Map(before.policies.map((p) => [p.name, p]));
  const now = new Map(after.policies.map((p) => [p.name, p]));
  const where = (p: Policy, base: boolean): Pick<PolicyChange, 'file' | 'line' | 'column'> => ({
    file: base ? baseRelative(p.source.file, basePaths, shown) : shown(p.source.file),
    line: p.source.line,
    column: p.source.column,
  });
  const changes: PolicyChange[] = [];
  for (const policy of after.policies) {
    const was = old.get(policy.name);
    if (!was) {
      changes.push({ policy: policy.name, change: 'added', after: enforces(policy), ...where(policy, false) });
      continue;
    }
    const [a, b] = [enforces(was), enforces(policy)];
    const sameOtherwise = JSON.stringify(comparable(was)) === JSON.stringify(comparable(policy));
    if (a === b && sameOtherwise) continue;
    const limit = limitChange(policy.name, oldPlans, newPlans);
    const at = { ...where(policy, false), ...firstChangedLine(was, before, policy, after) };
    changes.push({ policy: policy.name, change: 'changed', before: a, after: b, ...(limit ? { limit } : {}), ...at });
  }
  for (const policy of before.policies) {
    if (!now.has(policy.name)) changes.push({ policy: policy.name, change: 'removed', before: enforces(policy), ...where(policy, true) });
  }
  return changes;
}

/**
 * The first line of a changed policy's entry that differs from its old text, so an annotation
 * lands on the line the change touched (a pull request shows annotations on changed lines);
 * the entry's first line when the texts cannot be compared.
 */
function firstChangedLine(was: Policy, before: PolicySet, now: Policy, after: PolicySet): { line: number; column: number } | undefined {
  const oldLines = entryLines(was, before);
  const newLines = entryLines(now, after);
  if (!oldLines || !newLines) return undefined;
  const changed = newLines.find((entry, i) => entry.text.trim() !== oldLines[i]?.text.trim());
  if (!changed) return undefined;
  return { line: changed.line, column: changed.text.length - changed.text.trimStart().length + 1 };
}

/** The lines of a policy's entry with their numbers, blank lines and comments left out: from its first line to the next policy of its file, or the file's end. */
function entryLines(policy: Policy, set: PolicySet): Array<{ line: number; text: string }> | undefined {
  let text: string;
  try {
    text = readFileSync(policy.source.file, 'utf8');
  } catch {
    return undefined;
  }
  const next = set.policies.find((p) => p.order > policy.order && p.source.file === policy.source.file);
  const lines = text.split('\n');
  const end = next ? next.source.line - 1 : lines.length;
  return lines
    .map((line, i) => ({ line: i + 1, text: line.replace(/\s+#.*$/, '') }))
    .slice(policy.source.line - 1, end)
    .filter((entry) => !/^\s*(#.*)?$/.test(entry.text));
}

/** What a policy enforces and for which hosts, in its kind's words. */
function enforces(policy: Policy): string {
  const mode = policy.mode === 'audit' ? ' (audit)' : '';
  return `${kindOf(policy.kind).describe(policy)}${mode}${policy.hosts ? `; ${selectorText(policy.hosts)}` : ''}`;
}

/** A policy without where it is written: moving it to another line or file is no change. */
function comparable(policy: Policy): unknown {
  const { source: _source, order: _order, ...rest } = policy;
  return JSON.parse(JSON.stringify(rest, (_key, value: unknown) => (value instanceof RegExp ? String(value) : value))) as unknown;
}

/** The limit a policy measured against, before and after, when the snapshots show one that moved. */
function limitChange(policy: string, oldPlans: readonly HostPlan[], newPlans: readonly HostPlan[]): string | undefined {
  const limitOf = (plans: readonly HostPlan[]): { limit: number; unit: string } | undefined => {
    for (const plan of plans) {
      const measured = [...(plan.evaluation?.observations ?? []), ...plan.plan.actions].find((o) => o.policy === policy && o.measure !== undefined);
      if (measured?.measure) return measured.measure;
    }
    return undefined;
  };
  const [was, now] = [limitOf(oldPlans), limitOf(newPlans)];
  if (!was || !now || was.limit === now.limit || was.unit !== now.unit) return undefined;
  return `${figure(was.limit, was.unit)} → ${figure(now.limit, now.unit)}`;
}

function figure(value: number, unit: string): string {
  if (unit === 'bytes') return formatBytes(value);
  if (unit === 'seconds') return formatDuration(value);
  return String(value);
}

function baseRelative(file: string, basePaths: readonly string[], shown: (path: string) => string): string {
  // A file of an extracted revision is named as it is in the repository.
  const marker = file.match(/procguard-base-[^/]+\/(.*)$/);
  return marker && basePaths.length > 0 ? marker[1]! : shown(file);
}

/** "web-memory: limit 250.0 MiB → 200.0 MiB; would now restart web:w3 (pid 13) on web7 (rss 212.0 MiB > 200.0 MiB)". */
function summaryLines(policies: readonly PolicyChange[], hosts: readonly HostDiff[]): string[] {
  const lines: string[] = [];
  const named = new Set<string>();
  for (const change of policies) {
    named.add(change.policy);
    const what =
      change.change === 'added'
        ? `added (${change.after})`
        : change.change === 'removed'
          ? `removed (was ${change.before})`
          : change.limit
            ? `limit ${change.limit}${onlyTheLimit(change) ? '' : ` (${change.before} → ${change.after})`}`
            : `${change.before} → ${change.after}`;
    lines.push(`${change.policy}: ${what}${consequences(change.policy, hosts)}`);
  }
  // Actions that change with no change to their own policy: another policy now takes the process first.
  const others = new Set(hosts.flatMap((h) => [...h.appear, ...h.disappear].map((a) => a.policy)).filter((p) => !named.has(p)));
  for (const policy of others) lines.push(`${policy}: unchanged${consequences(policy, hosts)}`);
  return lines;
}

/** The policy's words before and after differ only by the limit. */
function onlyTheLimit(change: PolicyChange): boolean {
  const [was, now] = (change.limit ?? '').split(' → ');
  return was !== undefined && now !== undefined && change.before?.split(was).join(now) === change.after;
}

function consequences(policy: string, hosts: readonly HostDiff[]): string {
  const now: string[] = [];
  const no: string[] = [];
  for (const host of hosts) {
    for (const a of host.appear.filter((x) => x.policy === policy)) now.push(`${a.status === 'planned' ? '' : `${a.status} `}${a.action} ${a.target} on ${host.host} (${shortReason(a.reason)})`);
    for (const a of host.disappear.filter((x) => x.policy === policy)) no.push(`${a.action} ${a.target} on ${host.host}`);
  }
  const parts: string[] = [];
  if (now.length > 0) parts.push(`would now ${now.join(', ')}`);
  if (no.length > 0) parts.push(`would no longer ${no.join(', ')}`);
  if (parts.length === 0) parts.push('no action changes on these hosts');
  return `; ${parts.join('; ')}`;
}

function shortReason(reason: string): string {
  return reason.replace(/ \(cycle \d+ of \d+\)$/, '');
}

function diffText(diff: FleetDiff): string {
  const out: string[] = [`procguard diff against ${printable(diff.base)}`, ''];
  if (diff.summary.length === 0) out.push('No change to the policies or to what they would do on these hosts.');
  for (const line of diff.summary) out.push(printable(line));
  for (const host of diff.hosts) {
    const lines: string[] = [];
    if (host.error !== undefined) lines.push(`  error: ${host.error}`);
    for (const a of host.appear) lines.push(`  + ${a.action} ${a.target} by ${a.policy} (${a.status}): ${a.reason}`);
    for (const a of host.disappear) lines.push(`  - ${a.action} ${a.target} by ${a.policy} (${a.status}): ${a.reason}`);
    for (const m of host.newly_matched) lines.push(`  now matched: ${m.target} by ${m.policy}`);
    for (const m of host.no_longer_matched) lines.push(`  no longer matched: ${m.target} by ${m.policy}`);
    if (lines.length === 0) continue;
    out.push('', `${host.host} (${host.file}):`, ...lines.map(printable));
  }
  return `${out.join('\n')}\n`;
}

function diffMarkdown(diff: FleetDiff): string {
  const acting = diff.hosts.filter((h) => h.appear.length + h.disappear.length > 0).length;
  const out = [`### procguard diff against \`${diff.base.replace(/`/g, "'")}\`: ${plural(diff.policies.length, 'policy change')}, actions change on ${acting} of ${diff.hosts.length} hosts`, ''];
  if (diff.summary.length === 0) out.push('No change to the policies or to what they would do on these hosts.');
  for (const line of diff.summary) out.push(`- ${markdownCell(line)}`);
  const rows = diff.hosts.flatMap((h) => [
    ...(h.error !== undefined ? [`| ${markdownCell(h.host)} | :x: | ${markdownCell(h.error)} |`] : []),
    ...h.appear.map((a) => `| ${markdownCell(h.host)} | :heavy_plus_sign: ${markdownCell(a.action)} | ${markdownCell(`${a.target} by ${a.policy} (${a.status}): ${a.reason}`)} |`),
    ...h.disappear.map((a) => `| ${markdownCell(h.host)} | :heavy_minus_sign: ${markdownCell(a.action)} | ${markdownCell(`${a.target} by ${a.policy} (${a.status}): ${a.reason}`)} |`),
    ...h.newly_matched.map((m) => `| ${markdownCell(h.host)} | now matched | ${markdownCell(`${m.target} by ${m.policy}`)} |`),
    ...h.no_longer_matched.map((m) => `| ${markdownCell(h.host)} | no longer matched | ${markdownCell(`${m.target} by ${m.policy}`)} |`),
  ]);
  if (rows.length > 0) out.push('', '| host | change | what |', '|---|---|---|', ...rows);
  return `${out.join('\n')}\n`;
}

/** A notice on each changed policy's line, saying what the change does on the hosts. */
function diffGithub(diff: FleetDiff): string {
  const out: string[] = [];
  diff.policies.forEach((change, i) => {
    const line = diff.summary[i] ?? change.policy;
    const command = change.change === 'removed' ? 'notice' : diff.hosts.some((h) => h.appear.some((a) => a.policy === change.policy)) ? 'warning' : 'notice';
    out.push(
      githubCommandLine(
        command,
        change.change === 'removed' ? { title: `procguard diff: ${change.policy} removed` } : { file: change.file, line: change.line, col: change.column, title: `procguard diff: ${change.policy}` },
        line,
      ),
    );
  });
  for (const host of diff.hosts.filter((h) => h.error !== undefined)) out.push(githubCommandLine('error', { file: host.file, title: `procguard diff: ${host.host}` }, host.error!));
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
