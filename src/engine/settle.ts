// The state after a plan was carried out: the engine's state for the next cycle, corrected
// with what the adapters report. It remembers exactly the processes that were stopped (a
// pause may stop fewer than planned) and keeps a tree whose resume failed, to try again; the
// notifications that could not be delivered wait in it. Pure, like the rest of the engine.

import type { ActionOutcome, EngineState, PausedTree, PendingNotification, PlannedAction } from '../data/types.js';

export function settle(
  state: EngineState,
  previous: EngineState,
  actions: readonly PlannedAction[],
  outcomes: ReadonlyArray<ActionOutcome | undefined>,
  pending: readonly PendingNotification[],
): EngineState {
  const next: EngineState = structuredClone(state);
  actions.forEach((action, index) => {
    const outcome = outcomes[index];
    if (outcome) settlePaused(next, previous, action, outcome);
  });
  if (pending.length > 0) next.pending = [...pending];
  else delete next.pending;
  return next;
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
