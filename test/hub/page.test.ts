// The hub's page shows each program's headroom in the agent page's words: a CPU rate as a
// percentage, a share of the host's memory with the bytes it came to.

import assert from 'node:assert/strict';
import type { Snapshot } from '../../src/data/types.js';
import { emptyState } from '../../src/data/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { fleetDocument, parseQuery } from '../../src/hub/fleet.js';
import { renderFleetPage } from '../../src/hub/page.js';
import type { AgentState } from '../../src/hub/poll.js';
import type { Service } from '../../src/modes/service.js';
import { loadHandlebars } from '../../src/shared/handlebars.js';
import { StatusBoard } from '../../src/status/board.js';
import { policySetOf, proc, snapshot, T0 } from '../helpers/snapshots.js';

const GiB = 1024 ** 3;

/** The status an agent answers after the given cycles. */
function agentStatus(policies: string, snapshots: Snapshot[]) {
  const policySet = policySetOf(policies);
  const board = new StatusBoard({ config: { policySet, files: ['policies.yaml'] }, cycles: 0 } as unknown as Service, {}, 'web1');
  let state = emptyState();
  snapshots.forEach((snap, i) => {
    const evaluation = evaluate(policySet, snap, state, snap.time);
    state = evaluation.state;
    board.cycleDone({ snapshot: snap, evaluation, execution: { plan: evaluation.plan, outcomes: [], pending: [], audit: [], failed: false, restarted: [] }, state, storeProblems: [] }, i + 1);
  });
  return board.status();
}

describe('hub page: headroom', () => {
  before(async () => {
    await loadHandlebars();
  });

  it('a CPU rate as a percentage and a share of the host with its bytes, as on the agent page', () => {
    const memory = { total: 10 * GiB, available: 5 * GiB, swap_total: 0, swap_free: 0 };
    const status = agentStatus(
      [
        'policies:',
        '  - { name: hot, kind: cpu, match: { name: worker }, max_cpu: 50%, for: 3, action: kill }',
        '  - { name: share, kind: memory, match: { name: cache, user: root }, max_pss: 15%, action: kill }',
      ].join('\n'),
      [
        snapshot([proc(11, 'worker', { cpu_time: 100 }), proc(40, 'cache', { user: 'root', uid: 0, pss: GiB, uss: GiB, swap: 0 })], { time: T0, memory }),
        snapshot([proc(11, 'worker', { cpu_time: 126.8 }), proc(40, 'cache', { user: 'root', uid: 0, pss: GiB, uss: GiB, swap: 0 })], { time: T0 + 60, memory }),
      ],
    );
    const now = (T0 + 61) * 1000;
    const agent: AgentState = {
      agent: { name: 'web1', url: 'http://127.0.0.1:9301', labels: {}, source: 'hub.yaml:3' },
      status,
      lastAnswer: now,
      lastAttempt: { time: now, durationMs: 3 },
      inFlight: false,
    };
    const page = renderFleetPage(fleetDocument([agent], now, { intervalMs: 15000, timeoutMs: 5000 }, parseQuery(new URLSearchParams())), 15, []);
    assert.match(page, /hot: <span class="bar">.*?<\/span>cpu 44\.7% of 50%, 5\.3% left/);
    assert.match(page, /share: <span class="bar">.*?<\/span>pss 1\.0 GiB of 15% \(1\.5 GiB\), 512\.0 MiB left/);
    assert.doesNotMatch(page, /\d\.\d{4,}/, 'no unformatted figure');
  });
});
