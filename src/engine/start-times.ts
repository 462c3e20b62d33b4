// Start times to the clock tick. A state written by an earlier release kept them in whole
// seconds; the paused processes it names must still be recognised, or they would be taken for
// gone and left stopped.

import type { EngineState } from '../data/types.js';

/**
 * The state with every whole-second start time of a paused process replaced by the exact one
 * of the live process with that pid, when that process started within that second; `startOf`
 * gives a pid's start time now (from the snapshot, or from /proc right before a signal). A
 * state already exact to the tick is returned as it is.
 */
export function withTickStartTimes(state: EngineState, startOf: (pid: number) => number | undefined): EngineState {
  if (state.start_times === 'ticks') return state;
  const exact = <T extends { pid: number; start_time: number }>(p: T): T => {
    const live = Number.isInteger(p.start_time) ? startOf(p.pid) : undefined;
    return live !== undefined && Math.floor(live) === p.start_time ? { ...p, start_time: live } : p;
  };
  return { ...state, start_times: 'ticks', paused: state.paused.map((tree) => ({ ...tree, root: exact(tree.root), processes: tree.processes.map(exact) })) };
}
