// `procguard plan -c POLICIES --snapshots DIR|FILE… [--format F]`: the policy set evaluated
// against each host's snapshot, with that host's name and labels: one plan per host and a
// summary (which hosts would act, the actions by policy). Never acts.
// Exit: 0 no host would act, 1 one would, 2 invalid policies or a broken snapshot, 3 a snapshot carries a collector error.

import { describeTarget } from '../data/host-index.js';
import { jsonText, plural, printable } from '../shared/text.js';
import type { CliIo } from '../shared/io.js';
import type { ExitCode } from '../shared/exit-codes.js';
import { loadConfiguration } from './context.js';
import { fleetExitCode, planHosts, readHostSnapshots, wouldAct, type HostPlan } from './fleet.js';
import { formatPlanText } from './plan-output.js';
import { checkFormat, githubCommandLine, junitReport, markdownCell, type TestSuite } from './report-formats.js';

export const PLAN_FORMATS = ['text', 'json', 'markdown', 'junit', 'github'] as const;

export interface PlanOptions {
  config: string[];
  snapshots: string[];
  json?: boolean;
  format?: string;
  verbose?: boolean;
}

export async function runPlan(options: PlanOptions, io: CliIo): Promise<ExitCode> {
  const format = checkFormat('plan', options.json ? 'json' : (options.format ?? 'text'), PLAN_FORMATS);
  const policySet = await loadConfiguration(options.config, io);
  const plans = planHosts(policySet, await readHostSnapshots(options.snapshots));
  if (format === 'json') io.stdout(`${jsonText(plans.map((p) => p.plan))}\n`);
  else if (format === 'markdown') io.stdout(planMarkdown(plans));
  else if (format === 'junit') io.stdout(junitReport('procguard plan', planSuites(plans)));
  else if (format === 'github') io.stdout(planGithub(plans));
  else {
    for (const host of plans) {
      io.stdout(`== ${printable(host.host)} (${printable(host.file)}) ==\n`);
      if (host.evaluation && host.snapshot) io.stdout(formatPlanText(host.evaluation, host.snapshot, policySet, { verbose: options.verbose === true, color: io.color === true, footer: '' }));
      else io.stdout(`error: ${printable(host.problem ?? '')}\n`);
      io.stdout('\n');
    }
    io.stdout(summaryText(plans));
  }
  return fleetExitCode(plans);
}

export interface FleetSummary {
  acting: string[];
  quiet: string[];
  broken: string[];
  /** policy → action → hosts */
  byPolicy: Map<string, Map<string, string[]>>;
}

export function summarize(plans: readonly HostPlan[]): FleetSummary {
  const byPolicy = new Map<string, Map<string, string[]>>();
  for (const { host, plan } of plans) {
    for (const action of plan.actions.filter((a) => a.status === 'planned')) {
      const actions = byPolicy.get(action.policy) ?? new Map<string, string[]>();
      byPolicy.set(action.policy, actions);
      actions.set(action.action, [...(actions.get(action.action) ?? []), host]);
    }
  }
  return {
    acting: plans.filter((p) => !p.problem && wouldAct(p.plan)).map((p) => p.host),
    quiet: plans.filter((p) => !p.problem && !wouldAct(p.plan)).map((p) => p.host),
    broken: plans.filter((p) => p.problem).map((p) => p.host),
    byPolicy,
  };
}

function summaryText(plans: readonly HostPlan[]): string {
  const s = summarize(plans);
  const names = (hosts: string[]): string => (hosts.length > 0 ? ` (${hosts.map(printable).join(', ')})` : '');
  const out = [`${plural(plans.length, 'host')}: ${s.acting.length} would act${names(s.acting)}, ${s.quiet.length} nothing to do${names(s.quiet)}`];
  if (s.broken.length > 0) out[0] += `, ${plural(s.broken.length, 'broken snapshot')}${names(s.broken)}`;
  for (const [policy, actions] of s.byPolicy) {
    const parts = [...actions].map(([action, hosts]) => `${action} ${hosts.length} on ${plural(new Set(hosts).size, 'host')}`);
    out.push(`  ${printable(policy)}: ${parts.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

function planMarkdown(plans: readonly HostPlan[]): string {
  const s = summarize(plans);
  const out = [`### procguard plan: ${s.acting.length} of ${plural(plans.length, 'host')} would act`, ''];
  out.push('| host | would do |', '|---|---|');
  for (const { host, plan, problem } of plans) {
    const what = problem
      ? `:x: ${markdownCell(problem)}`
      : plan.actions.length === 0
        ? 'nothing'
        : plan.actions.map((a) => markdownCell(`${a.action} ${describeTarget(a.target)} (${a.policy}, ${a.status}): ${a.reason}`)).join('<br>');
    out.push(`| ${markdownCell(host)} | ${what} |`);
  }
  if (s.byPolicy.size > 0) {
    out.push('', '| policy | actions |', '|---|---|');
    for (const [policy, actions] of s.byPolicy) out.push(`| ${markdownCell(policy)} | ${[...actions].map(([a, hosts]) => `${a} ${hosts.length}`).join(', ')} |`);
  }
  return `${out.join('\n')}\n`;
}

/** One test suite per host, one test case per policy: failing where the host would act, an error where its snapshot is broken. */
function planSuites(plans: readonly HostPlan[]): TestSuite[] {
  return plans.map(({ host, file, plan, problem, evaluation }) => {
    if (problem) return { name: host, cases: [{ name: 'snapshot', classname: host, file, error: problem }] };
    const policies = [...new Set([...(evaluation?.observations ?? []).map((o) => o.policy), ...plan.actions.map((a) => a.policy)])];
    return {
      name: host,
      cases: policies.map((policy) => {
        const acts = plan.actions.filter((a) => a.policy === policy && a.status === 'planned');
        return {
          name: policy,
          classname: host,
          file,
          ...(acts.length > 0 ? { failure: acts.map((a) => `would ${a.action} ${describeTarget(a.target)}: ${a.reason}`).join('\n') } : {}),
        };
      }),
    };
  });
}

/** A notice per action a host would take, an error per broken snapshot, on the snapshot's file. */
function planGithub(plans: readonly HostPlan[]): string {
  const out: string[] = [];
  for (const { host, file, plan, problem } of plans) {
    if (problem) out.push(githubCommandLine('error', { file, title: `procguard plan: ${host}` }, problem));
    for (const a of plan.actions.filter((x) => x.status === 'planned')) {
      out.push(githubCommandLine('notice', { file, title: `procguard plan: ${host}` }, `${a.policy}: would ${a.action} ${describeTarget(a.target)}: ${a.reason}`));
    }
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
