// The state after a plan was carried out: the engine's state for the next cycle, corrected
// with what the adapters report. It remembers exactly the processes that were stopped (a
// pause may stop fewer than planned) and keeps a tree whose resume failed, to try again; the
// notifications that could not be delivered wait in it, and so do the lasting conditions with
// when a failing action is tried next. Pure, like the rest of the engine.

import { actionConditionKey, recordKey, RETRY_AT_LEAST_EVERY, skipCyclesAfter, targetKeyOf } from '../data/lasting.js';
import type { ActionOutcome, EngineState, LastingCondition, PausedTree, PendingNotification, PlannedAction } from '../data/types.js';

export function settle(
  state: EngineState,
  previous: EngineState,
  actions: readonly PlannedAction[],
  outcomes: ReadonlyArray<ActionOutcome | undefined>,
  pending: readonly PendingNotification[],
  now: number,
): EngineState {
  const next: EngineState = structuredClone(state);
  actions.forEach((action, index) => {
    const outcome = outcomes[index];
    if (outcome) settlePaused(next, previous, action, outcome);
  });
  if (pending.length > 0) next.pending = [...pending];
  else delete next.pending;
  const lasting = [...(next.lasting ?? []), ...settleConditions(previous, actions, now)];
  if (lasting.length > 0) next.lasting = lasting;
  else delete next.lasting;
  return next;
}

/**
 * The conditions the actions carried out (with their final status and `lasting`) speak for: a
 * failed attempt sets the backoff (attempts 1, 2, 4, 8 … cycles apart, at least once an hour),
 * a cycle waiting it out counts one down, a success or an action no longer failing ends it.
 */
export function settleConditions(previous: EngineState, actions: readonly PlannedAction[], now: number): LastingCondition[] {
  const before = new Map((previous.lasting ?? []).map((record) => [recordKey(record), record]));
  const records = new Map<string, LastingCondition>();
  for (const action of actions) {
    const { lasting } = action;
    if (!lasting || lasting.report === 'ends') continue;
    const key = actionConditionKey(action);
    const common = {
      policy: action.policy,
      action: action.action,
      target_key: targetKeyOf(action.target),
      target: { pid: action.target.pid, name: action.target.name, ...pick(action.target, 'start_time', 'namespec', 'supervisor') },
      first_seen: lasting.since,
      last_seen: now,
      attempts: lasting.attempts,
    };
    if (lasting.error === undefined) {
      // An audit finding is kept; the flapping guard's hold lives in the policy's targets.
      if (action.mode === 'audit') records.set(key, { ...common, kind: 'audit' });
      continue;
    }
    const prior = before.get(key);
    const attempted = action.status === 'failed';
    records.set(key, {
      ...common,
      kind: 'failing',
      error: lasting.error,
      skip_cycles: attempted ? skipCyclesAfter(lasting.attempts) : Math.max(0, (prior?.skip_cycles ?? 0) - 1),
      retry_by: attempted || prior?.retry_by === undefined ? now + RETRY_AT_LEAST_EVERY : prior.retry_by,
    });
  }
  return [...records.values()];
}

function settlePaused(state: EngineState, previous: EngineState, action: PlannedAction, outcome: ActionOutcome): void {
  const sameTree = (tree: PausedTree): boolean => tree.policy === action.policy && tree.root.pid === action.target.pid;
  if (action.action === 'pause') {
    const tree = state.paused.find(sameTree);
    if (!tree) return;
    const stopped = outcome.status === 'skipped' ? undefined : outcome.processes;
    if (stopped && stopped.length > 0) tree.processes = stopped;
    else state.paused.splice(state.paused.indexOf(tree), 1);
  } else if (action.action === 'resume' && outcome.status === 'failed' && outcome.processes && outcome.processes.length > 0) {
    const before = previous.paused.find(sameTree);
    state.paused.push({
      policy: action.policy,
      root: before?.root ?? { pid: action.target.pid, start_time: action.target.start_time ?? 0, name: action.target.name },
      processes: outcome.processes,
      since: before?.since ?? 0,
    });
  }
}

function pick<T extends object, K extends keyof T>(object: T, ...keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((key) => object[key] !== undefined).map((key) => [key, object[key]])) as Partial<Pick<T, K>>;
}
