// The status page and `procguard status` on a cpu policy: the rate against max_cpu as a
// headroom bar in percent of a core, and the policy's line in words.
import assert from 'node:assert/strict';
import { emptyState, type EngineState, type ProcessEntry } from '../../src/data/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import type { CycleResult } from '../../src/modes/cycle.js';
import type { Service } from '../../src/modes/service.js';
import { StatusBoard } from '../../src/status/board.js';
import { renderPage } from '../../src/status/page.js';
import { policySetOf, proc, snapshot, T0 } from '../helpers/snapshots.js';

const POLICIES = 'policies: [{ name: hot, kind: cpu, mode: audit, match: { name: worker, user: root }, max_cpu: 80%, scope: tree, for: 2, action: kill }]';

describe('status board: a cpu policy', () => {
  const policySet = policySetOf(POLICIES);
  const service = { config: { policySet, files: ['policies.yaml'] }, cycles: 0 } as unknown as Service;
  const board = new StatusBoard(service, {}, 'web1');
  let state: EngineState = emptyState();

  function cycle(index: number, processes: ProcessEntry[]): void {
    const now = T0 + index * 60;
    const snap = snapshot(processes, { time: now });
    const evaluation = evaluate(policySet, snap, state, now);
    state = evaluation.state;
    const result: CycleResult = {
      snapshot: snap,
      evaluation,
      execution: { plan: evaluation.plan, outcomes: [], pending: [], audit: [], failed: false, restarted: [] },
      state,
      storeProblems: [],
    };
    board.cycleDone(result, 1);
  }

  it('shows the rate against max_cpu in percent once measured, and says what the policy enforces', () => {
    const worker = (cpu: number): ProcessEntry => proc(40, 'worker', { user: 'root', uid: 0, cpu_time: cpu });
    cycle(0, [worker(100)]);
    const views = (): unknown[] => board.status().processes.flatMap((p) => p.policies.map((v) => [p.pid, v.verdict, v.detail, v.headroom]));
    assert.equal(board.status().policies.find((p) => p.name === 'hot')?.enforces, 'max_cpu 80% of a core per process tree, 2 cycles, then kill (grace 10s)');
    assert.deepEqual(views(), [[40, 'ok', 'tree: measuring (first cycle that sees it; the rate needs two)', undefined]]);
    cycle(1, [worker(145)]);
    assert.deepEqual(views(), [[40, 'ok', 'tree cpu (1 process) 75% ≤ 80%', { value: 75, limit: 80, left: 5, unit: 'percent', used_percent: 93.8, name: 'cpu' }]]);
    assert.match(renderPage(board.status(), 5), /cpu 75% of 80%, 5% left/);
  });
});
