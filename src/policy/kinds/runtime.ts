// kind: runtime — act on a process that has run too long (dmon -t). Its schema:
// #/definitions/runtimePolicy in schemas/policy.schema.json.

import { targetKey, targetOf, uptimeOf } from '../../data/host-index.js';
import { formatDuration } from '../../shared/units.js';
import type { PolicyBase } from '../base.js';
import { durationAt } from '../unit-values.js';
import { actingFields, actingPower, actionProposal, actionText, checkActing, type ActingFields } from './acting.js';
import type { KindContext, KindResult, PolicyKind } from './kind.js';

export interface RuntimePolicy extends PolicyBase, ActingFields {
  kind: 'runtime';
  /** Seconds. */
  maxRuntime: number;
}

export const runtime: PolicyKind<RuntimePolicy> = {
  kind: 'runtime',
  schemaDefinition: 'runtimePolicy',
  keyHints: {
    timeout: 'max_runtime',
    max_time: 'max_runtime',
  },
  normalize(raw, base) {
    return { ...base, kind: 'runtime', maxRuntime: durationAt(raw, 'max_runtime') as number, ...actingFields(raw) };
  },
  positiveDurations: [['max_runtime'], ['max_actions', 'within']],
  check: checkActing,
  power: actingPower,
  describe: (policy) => `max_runtime ${formatDuration(policy.maxRuntime)}, then ${actionText(policy)}`,
  evaluate: evaluateRuntimePolicy,
};

function evaluateRuntimePolicy(policy: RuntimePolicy, { matched, time, seen }: KindContext): KindResult {
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
    result.proposals.push({ ...actionProposal(policy), policy, process, reason, measure: measured, limit: policy.maxRuntime, key });
  }
  return result;
}
