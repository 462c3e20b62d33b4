// Lasting conditions in the plan: a failing action waits out its backoff (skipped, with when it
// is tried again), an audit-mode finding seen before is marked as a repeat, and a condition
// whose policy, target or need went away is listed as cleared. The state of the conditions
// after the cycle is settle's (settle.ts), from what the adapters reported.

import type { HostIndex } from '../data/host-index.js';
import { targetKey } from '../data/host-index.js';
import { actionConditionKey, conditionKey, recordKey, targetKeyOf, timeText } from '../data/lasting.js';
import type { ClearedCondition, LastingCondition, Lasting, Observation, Plan, PlannedAction } from '../data/types.js';
import type { PolicySet } from '../policy/model.js';

/** The conditions of the state, by policy, action and target. */
export type Conditions = ReadonlyMap<string, LastingCondition>;

export function indexConditions(records: readonly LastingCondition[] | undefined): Conditions {
  return new Map((records ?? []).map((record) => [recordKey(record), record]));
}

/** Why a failing action is not tried this cycle, or undefined when its next attempt is due. */
export function backoffReason(record: LastingCondition, now: number): string | undefined {
  const skip = record.skip_cycles ?? 0;
  if (record.kind !== 'failing' || skip <= 0 || now >= (record.retry_by ?? 0)) return undefined;
  const when = skip === 1 ? 'next cycle' : `in ${skip} cycles`;
  return `retrying ${when} (failing since ${timeText(record.first_seen)}, ${record.attempts === 1 ? '1 attempt' : `${record.attempts} attempts`})`;
}

/** What the plan says of a decided action's condition: a failure it may repeat, an audit finding it begins or repeats. */
export function lastingAtPlan(action: PlannedAction, record: LastingCondition | undefined, now: number): Lasting | undefined {
  if (action.mode === 'audit' && action.status === 'skipped') {
    return record?.kind === 'audit' ? { report: 'repeats', since: record.first_seen, attempts: record.attempts + 1 } : { report: 'begins', since: now, attempts: 1 };
  }
  if (record?.kind === 'failing' && record.error !== undefined) return { report: 'repeats', since: record.first_seen, attempts: record.attempts, error: record.error };
  return undefined;
}

/**
 * The conditions no action of this plan speaks for (an audit finding: no action skipped in
 * audit mode): kept while the policy still sees its
 * target over the limit (a `for` counting again), cleared when the policy, the target or the
 * need went away.
 */
export function unplannedConditions(
  records: Conditions,
  plan: Plan,
  observations: readonly Observation[],
  policySet: PolicySet,
  host: HostIndex,
): { kept: LastingCondition[]; cleared: ClearedCondition[] } {
  const kept: LastingCondition[] = [];
  const cleared: ClearedCondition[] = [];
  // Most cycles carry no condition over: nothing below is indexed for them.
  if (records.size === 0) return { kept, cleared };
  const planned = new Set(plan.actions.map(actionConditionKey));
  const audited = new Set(plan.actions.filter((a) => a.mode === 'audit' && a.status === 'skipped').map(actionConditionKey));
  const live = new Set([...host.byPid.values()].map(targetKey));
  const seen = new Map(observations.map((o) => [conditionKey(o.policy, '', targetKeyOf(o.target)), o]));
  for (const [key, record] of records) {
    if (record.kind === 'failing' ? planned.has(key) && !audited.has(key) : audited.has(key)) continue;
    const policy = policySet.policies.find((p) => p.name === record.policy);
    const observed = seen.get(conditionKey(record.policy, '', record.target_key));
    let reason: string | undefined;
    if (!policy) reason = `policy "${record.policy}" is no longer configured`;
    else if (record.kind === 'failing' && audited.has(key)) reason = `policy "${record.policy}" is now in audit mode`;
    else if (record.kind === 'audit' && policy.mode !== 'audit') reason = `policy "${record.policy}" is no longer in audit mode`;
    else if (!live.has(record.target_key)) reason = 'the process is gone';
    else if (!observed) reason = `policy "${record.policy}" no longer matches it`;
    else if (observed.verdict === 'ok') reason = `no longer needed: ${observed.detail}`;
    if (reason === undefined) {
      kept.push(record);
      continue;
    }
    const { policy: name, action, target, kind, first_seen, last_seen, attempts, error } = record;
    cleared.push({ policy: name, action, target, kind, since: first_seen, last_seen, attempts, ...(error !== undefined ? { error } : {}), reason });
  }
  return { kept, cleared };
}
