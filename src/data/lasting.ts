// Lasting conditions: the same action failing on the same target with the same error, or an
// audit-mode finding, cycle after cycle. Each is reported (logged, audited, printed by
// `apply --quiet`) when it begins and when it ends; a repeat is only counted. The engine marks
// the plan, the adapters' outcomes finish the marks, and every output reads them from here.

import { formatDuration } from '../shared/units.js';
import { CLOCK_TICKS } from './host-index.js';
import type { ClearedCondition, Lasting, PlannedAction, Target } from './plan.generated.js';
import type { LastingCondition } from './state.generated.js';

/** A failing action is tried again at least this often (seconds), whatever the backoff says. */
export const RETRY_AT_LEAST_EVERY = 3600;

/** The backoff's largest step in cycles, so that the count stays a small number. */
const MAX_STEP = 2 ** 16;

/** The target as the policies' state knows it: a supervisord program by its namespec, any other process by pid and start time. */
export function targetKeyOf(target: Target): string {
  if (target.supervisor !== undefined && target.namespec !== undefined) return `supervisor:${target.supervisor}:${target.namespec}`;
  return `pid:${target.pid}:${Math.round((target.start_time ?? 0) * CLOCK_TICKS)}`;
}

/** Policy, action and target: what a lasting condition is about. */
export function conditionKey(policy: string, action: string, targetKey: string): string {
  return `${policy}\0${action}\0${targetKey}`;
}

export function actionConditionKey(action: Pick<PlannedAction, 'policy' | 'action' | 'target'>): string {
  return conditionKey(action.policy, action.action, targetKeyOf(action.target));
}

export function recordKey(record: LastingCondition): string {
  return conditionKey(record.policy, record.action, record.target_key);
}

/** Cycles skipped after the attempts made: 0, 1, 3, 7 …, so that attempts come 1, 2, 4, 8 … cycles apart. */
export function skipCyclesAfter(attempts: number): number {
  return Math.min(2 ** Math.max(0, attempts - 1), MAX_STEP) - 1;
}

/** Already reported: neither logged nor audited nor printed by `apply --quiet` again. */
export function isRepeat(action: Pick<PlannedAction, 'lasting'>): boolean {
  return action.lasting?.report === 'repeats';
}

/** The condition an action with its final status begins, repeats or ends (apply, after the adapter reported). */
export function lastingAfter(action: PlannedAction, now: number): Lasting | undefined {
  const before = action.lasting;
  if (action.status === 'failed') {
    const error = action.error ?? 'failed';
    // The same error again only counts; another error is a new condition, reported again.
    if (before?.error === error) return { report: 'repeats', since: before.since, attempts: before.attempts + 1, error };
    return { report: 'begins', since: now, attempts: 1, error };
  }
  if (action.status === 'done') {
    return before?.error !== undefined ? { report: 'ends', since: before.since, attempts: before.attempts + 1, error: before.error } : undefined;
  }
  return before;
}

/** "succeeded after 14 attempts over 2h10m". */
export function succeededText(lasting: Lasting, now: number): string {
  return `succeeded after ${lasting.attempts} attempts over ${formatDuration(now - lasting.since)}`;
}

/** "2026-12-05 07:30:00 UTC". */
export function timeText(seconds: number): string {
  return new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** "failed 4 times over 12m since 2026-12-05 07:30:00 UTC" or "found in 12 cycles over 11m since …". */
export function clearedText(cleared: ClearedCondition): string {
  const over = formatDuration(cleared.last_seen - cleared.since);
  const times =
    cleared.kind === 'failing' ? `failed ${cleared.attempts === 1 ? 'once' : `${cleared.attempts} times`}` : `found in ${cleared.attempts === 1 ? '1 cycle' : `${cleared.attempts} cycles`}`;
  return `${cleared.reason}; ${times} over ${over} since ${timeText(cleared.since)}${cleared.error !== undefined ? ` (${cleared.error})` : ''}`;
}
