// kind: memory — act on a process whose resident memory is over a limit (superlance memmon):
// each process alone, with its descendants (memmon -c), or a group summed, acting on its
// largest. Its schema: #/definitions/memoryPolicy in schemas/policy.schema.json.

import { processTree, targetKey, targetOf, type LiveProcess } from '../../data/host-index.js';
import { formatBytes } from '../../shared/units.js';
import type { PolicyBase } from '../base.js';
import { sizeAt } from '../unit-values.js';
import { actingFields, actingPower, actionProposal, actionText, checkActing, type ActingFields } from './acting.js';
import type { KindContext, KindResult, PolicyKind } from './kind.js';

export interface MemoryPolicy extends PolicyBase, ActingFields {
  kind: 'memory';
  /** Bytes; acts when RSS is strictly greater. */
  maxRss: number;
  scope: 'process' | 'tree' | 'group';
  /** Consecutive over-limit cycles before acting. */
  for: number;
}

/** What a memory policy measures when it leaves out scope and for. */
export const MEMORY_DEFAULTS = { scope: 'process', for: 1 } as const;

export const memory: PolicyKind<MemoryPolicy> = {
  kind: 'memory',
  schemaDefinition: 'memoryPolicy',
  keyHints: {
    cumulative: 'scope: tree',
    tree: 'scope: tree',
    children: 'scope: tree',
    limit: 'max_rss',
    rss: 'max_rss',
    memory: 'max_rss',
    max_memory: 'max_rss',
  },
  normalize(raw, base) {
    return {
      ...base,
      kind: 'memory',
      maxRss: sizeAt(raw, 'max_rss') as number,
      scope: (raw.scope as MemoryPolicy['scope'] | undefined) ?? MEMORY_DEFAULTS.scope,
      for: (raw.for as number | undefined) ?? MEMORY_DEFAULTS.for,
      ...actingFields(raw),
    };
  },
  positiveDurations: [['max_actions', 'within']],
  check(policy, label, report) {
    if (sizeAt(policy.value, 'max_rss') === 0) {
      report.add(policy.file, [...policy.path, 'max_rss'], 'warning', 'invalid-value', `"max_rss" is 0 in ${label}: every matched process is over it and is acted on every cycle (as memmon NAME=0)`);
    }
    checkActing(policy, label, report);
  },
  power: actingPower,
  describe(policy) {
    const scope = policy.scope === 'process' ? 'per process' : policy.scope === 'tree' ? 'per process tree' : 'for the group';
    const cycles = policy.for === 1 ? '' : `, ${policy.for} cycles`;
    return `max_rss ${formatBytes(policy.maxRss)} ${scope}${cycles}, then ${actionText(policy)}`;
  },
  evaluate: evaluateMemoryPolicy,
};

function evaluateMemoryPolicy(policy: MemoryPolicy, { matched, host, targets, seen }: KindContext): KindResult {
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
    result.proposals.push({ ...actionProposal(policy), policy, process, reason, measure: measured, rss: value, limit: policy.maxRss, key });
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
