// memory, runtime and oom: each matched process measured against the policy's limit.

import type { MemoryPolicy, OomPolicy, RuntimePolicy, Action } from '../policy/model.js';
import { formatBytes, formatDuration } from '../shared/units.js';
import { processTree, targetKey, targetOf, uptimeOf, type HostIndex, type LiveProcess } from '../data/host-index.js';
import type { KindResult, PolicyTargets, Proposal } from './proposal.js';

export function evaluateMemoryPolicy(policy: MemoryPolicy, matched: LiveProcess[], host: HostIndex, targets: PolicyTargets, seen: Set<string>): KindResult {
  const result: KindResult = { proposals: [], observations: [], warnings: [] };
  const limit = formatBytes(policy.maxRss);
  const measure = (process: LiveProcess, value: number, key: string, what: string): void => {
    seen.add(key);
    const entry = (targets[key] ??= {});
    const target = targetOf(process);
    const measured = { value, limit: policy.maxRss, unit: 'bytes' } as const;
    if (value <= policy.maxRss) {
      delete entry.over;
      result.observations.push({ policy: policy.name, target, detail: `${what} ${formatBytes(value)} ≤ ${limit}`, verdict: 'ok', measure: measured });
      return;
    }
    const cycle = Math.min((entry.over ?? 0) + 1, policy.for);
    const reason = `${what} ${formatBytes(value)} > ${limit} (cycle ${cycle} of ${policy.for})`;
    entry.over = cycle;
    if (cycle < policy.for) {
      result.observations.push({ policy: policy.name, target, detail: reason, verdict: 'over', measure: measured });
      return;
    }
    result.observations.push({ policy: policy.name, target, detail: reason, verdict: 'act', measure: measured });
    result.proposals.push({ ...actionFields(policy.action, policy.grace), policy, process, reason, rss: value, limit: policy.maxRss, key });
  };

  if (policy.scope === 'group') {
    if (matched.length === 0) return result;
    const total = matched.reduce((sum, p) => sum + p.rss, 0);
    const largest = matched.reduce((big, p) => (p.rss > big.rss ? p : big));
    const label = largest.supervisor ? `${largest.supervisor.group}:${largest.supervisor.name}` : `${largest.name} (pid ${largest.pid})`;
    measure(largest, total, 'group', `group rss over ${matched.length} processes (largest ${label}, ${formatBytes(largest.rss)})`);
    return result;
  }
  for (const process of matched) {
    if (policy.scope === 'tree') {
      const tree = processTree(host, process);
      const value = tree.reduce((sum, p) => sum + p.rss, 0);
      measure(process, value, targetKey(process), `tree rss (${tree.length} ${tree.length === 1 ? 'process' : 'processes'})`);
    } else {
      measure(process, process.rss, targetKey(process), 'rss');
    }
  }
  return result;
}

export function evaluateRuntimePolicy(policy: RuntimePolicy, matched: LiveProcess[], time: number, seen: Set<string>): KindResult {
  const result: KindResult = { proposals: [], observations: [], warnings: [] };
  const limit = formatDuration(policy.maxRuntime);
  for (const process of matched) {
    const key = targetKey(process);
    seen.add(key);
    const uptime = uptimeOf(process, time);
    const target = targetOf(process);
    const measured = { value: uptime, limit: policy.maxRuntime, unit: 'seconds' } as const;
    if (uptime <= policy.maxRuntime) {
      result.observations.push({ policy: policy.name, target, detail: `uptime ${formatDuration(uptime)} ≤ ${limit}`, verdict: 'ok', measure: measured });
      continue;
    }
    const reason = `uptime ${formatDuration(uptime)} > max_runtime ${limit}`;
    result.observations.push({ policy: policy.name, target, detail: reason, verdict: 'act', measure: measured });
    result.proposals.push({ ...actionFields(policy.action, policy.grace), policy, process, reason, limit: policy.maxRuntime, key });
  }
  return result;
}

/** Which oom policy set each pid this cycle: the first in file order wins. */
export type OomClaims = Map<number, { policy: string; value: number }>;

export function evaluateOomPolicy(policy: OomPolicy, matched: LiveProcess[], claims: OomClaims): KindResult {
  const result: KindResult = { proposals: [], observations: [], warnings: [] };
  const want = policy.oomScoreAdj;
  for (const process of matched) {
    const target = targetOf(process);
    const claim = claims.get(process.pid);
    if (claim) {
      if (claim.value !== want) {
        result.warnings.push(
          `${process.name} (pid ${process.pid}): policies "${claim.policy}" (oom_score_adj ${claim.value}) and "${policy.name}" ` +
            `(${want}) disagree; "${claim.policy}" wins as the first in file order`,
        );
      }
      continue;
    }
    claims.set(process.pid, { policy: policy.name, value: want });
    const current = process.oom_score_adj;
    if (current === want) {
      result.observations.push({ policy: policy.name, target, detail: `oom_score_adj ${current} as wanted`, verdict: 'ok' });
      continue;
    }
    const reason = current === undefined ? `oom_score_adj unknown, wants ${want}` : `oom_score_adj ${current}, wants ${want}`;
    result.observations.push({ policy: policy.name, target, detail: reason, verdict: 'act' });
    result.proposals.push({ policy, action: 'set_oom_score_adj', value: want, process, reason });
  }
  return result;
}

function actionFields(action: Action, grace: number): Pick<Proposal, 'action' | 'signal' | 'grace'> {
  if (action.type === 'signal') return { action: 'signal', signal: action.signal };
  if (action.type === 'kill') return { action: 'kill', grace };
  return { action: action.type };
}
