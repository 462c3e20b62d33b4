// An evaluation carried out as a cycle does: the plan through the adapters, then the engine's
// state settled with what they reported.
import { carryOut, type Execution } from '../../src/actions/execute.js';
import type { AdapterDeps } from '../../src/actions/types.js';
import type { EngineState, Evaluation } from '../../src/data/types.js';
import { settle } from '../../src/engine/settle.js';
import type { PolicySet } from '../../src/policy/model.js';

export async function applyEvaluation(evaluation: Evaluation, previous: EngineState, policySet: PolicySet, deps: AdapterDeps): Promise<Execution & { state: EngineState }> {
  const execution = await carryOut(evaluation.plan, policySet, deps, previous.pending ?? []);
  return { ...execution, state: settle(evaluation.state, previous, execution.plan.actions, execution.outcomes, execution.pending, evaluation.plan.time) };
}
