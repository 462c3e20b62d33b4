// The status page's view of a lasting condition: one row with first seen, last seen and the
// attempt count, and in "recent" only when it begins and when it ends, over a dozen cycles of
// the real engine.
import assert from 'node:assert/strict';
import { lastingAfter } from '../../src/data/lasting.js';
import { emptyState, type EngineState, type PlannedAction, type ProcessEntry } from '../../src/data/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { settle } from '../../src/engine/settle.js';
import type { CycleResult } from '../../src/modes/cycle.js';
import type { Service } from '../../src/modes/service.js';
import { StatusBoard } from '../../src/status/board.js';
import { renderPage } from '../../src/status/page.js';
import { loadHandlebars } from '../../src/shared/handlebars.js';
import { policySetOf, proc, snapshot, T0 } from '../helpers/snapshots.js';

const POLICIES = 'policies: [{ name: oom, kind: oom, match: { name: app, user: root }, oom_score_adj: -500 }]';
const EACCES = 'EACCES: not permitted to write /proc/40/oom_score_adj';

describe('status board: a lasting failure', () => {
  // As the status page's start does before it renders a page.
  before(() => loadHandlebars());

  const policySet = policySetOf(POLICIES);
  const service = { config: { policySet, files: ['policies.yaml'] }, cycles: 0 } as unknown as Service;
  const board = new StatusBoard(service, {}, 'web1');
  let state: EngineState = emptyState();

  function cycle(index: number, processes: ProcessEntry[]): void {
    const now = T0 + index * 60;
    const snap = snapshot(processes, { time: now });
    const evaluation = evaluate(policySet, snap, state, now);
    const actions = evaluation.plan.actions.map((a): PlannedAction => {
      if (a.status !== 'planned') return a;
      const failed: PlannedAction = { ...a, status: 'failed', error: EACCES };
      const lasting = lastingAfter(failed, now);
      return { ...failed, ...(lasting ? { lasting } : {}) };
    });
    const outcomes = actions.map((a) => (a.status === 'failed' ? { status: 'failed' as const, error: EACCES } : undefined));
    state = settle(evaluation.state, state, actions, outcomes, [], now);
    const result: CycleResult = {
      snapshot: snap,
      evaluation,
      execution: { plan: { ...evaluation.plan, actions }, outcomes, pending: [], audit: [], failed: true, restarted: [] },
      state,
      storeProblems: [],
    };
    board.cycleDone(result, 1);
  }

  it('is one row with first seen, last seen and attempts, and one entry in recent, over a dozen cycles', () => {
    for (let i = 0; i < 12; i += 1) cycle(i, [proc(40, 'app', { oom_score_adj: 0, user: 'root', uid: 0 })]);
    const doc = board.status();
    assert.deepEqual(
      doc.lasting.map((row) => [row.policy, row.action, row.target.pid, row.first_seen, row.last_seen, row.attempts, row.error, row.next_attempt?.in_cycles]),
      [['oom', 'set_oom_score_adj', 40, T0, T0 + 11 * 60, 4, EACCES, 4]],
    );
    assert.deepEqual(
      doc.recent.map((r) => [r.what, r.status]),
      [['set_oom_score_adj -500', 'failed']],
    );
    // The summary counts what keeps failing, not only what failed in the last cycle (this one waited out its backoff).
    assert.equal(doc.summary.failing, 1);
    const page = renderPage(doc, 5);
    assert.equal(page.match(/<tr class="lasting failing">/g)?.length, 1);
    assert.match(page, /next attempt in 4 cycles/);
    assert.match(page, /<td>oom<\/td><td>set_oom_score_adj<\/td><td>app \(pid 40\)<\/td><td>2026-11-21 [\d:]+ UTC<\/td><td>2026-11-21 [\d:]+ UTC<\/td><td class="num">4<\/td>/);
  });

  it('when it clears: no row, and a second entry in recent saying for how long and how often', () => {
    cycle(12, []);
    const doc = board.status();
    assert.deepEqual(doc.lasting, []);
    assert.deepEqual(
      doc.recent.map((r) => [r.what, r.status, r.reason]),
      [
        ['set_oom_score_adj', 'cleared', `the process is gone; failed 4 times over 11m since 2026-11-21 ${new Date(T0 * 1000).toISOString().slice(11, 19)} UTC (${EACCES})`],
        ['set_oom_score_adj -500', 'failed', 'oom_score_adj 0, wants -500'],
      ],
    );
    assert.match(renderPage(doc, 5), /Nothing is failing\./);
  });
});

describe('status board: memory headroom', () => {
  it('names the measure and shows a share of the host with the bytes it came to', () => {
    const policySet = policySetOf('policies: [{ name: share, kind: memory, match: { name: cache, user: root }, max_pss: 15%, action: kill }]');
    const board = new StatusBoard({ config: { policySet, files: ['policies.yaml'] }, cycles: 0 } as unknown as Service, {}, 'web1');
    const GiB = 1024 ** 3;
    const snap = snapshot([proc(40, 'cache', { user: 'root', uid: 0, pss: GiB, uss: GiB, swap: 0 })], { memory: { total: 10 * GiB, available: 5 * GiB, swap_total: 0, swap_free: 0 } });
    const evaluation = evaluate(policySet, snap, emptyState(), T0);
    board.cycleDone(
      { snapshot: snap, evaluation, execution: { plan: evaluation.plan, outcomes: [], pending: [], audit: [], failed: false, restarted: [] }, state: evaluation.state, storeProblems: [] },
      1,
    );
    const doc = board.status();
    const view = doc.processes?.flatMap((p) => p.policies) ?? [];
    assert.deepEqual(
      view.map((v) => [v.policy, v.headroom?.name, v.headroom?.limit_percent, v.headroom?.limit]),
      [['share', 'pss', 15, 1.5 * GiB]],
    );
    assert.match(renderPage(doc, 5), /share: <span class="bar">.*<\/span>pss 1\.0 GiB of 15% \(1\.5 GiB\), 512\.0 MiB left/);
  });
});

describe('status board: host targeting', () => {
  it('lists a policy meant for other hosts as not for this host, with its selector, and one for this host as matched', async () => {
    await loadHandlebars();
    const policySet = policySetOf(
      [
        'policies:',
        '  - { name: db-oom, kind: oom, hosts: { names: ["db*"] }, match: { name: app, user: root }, oom_score_adj: -500 }',
        '  - { name: web-oom, kind: oom, hosts: { names: ["web*"] }, match: { name: app, user: root }, oom_score_adj: -500 }',
      ].join('\n'),
    );
    const board = new StatusBoard({ config: { policySet, files: ['policies.yaml'] }, cycles: 0 } as unknown as Service, {}, 'web1');
    const snap = snapshot([proc(40, 'app', { user: 'root', uid: 0, oom_score_adj: 0 })]);
    const evaluation = evaluate(policySet, snap, emptyState(), T0);
    board.cycleDone(
      { snapshot: snap, evaluation, execution: { plan: evaluation.plan, outcomes: [], pending: [], audit: [], failed: false, restarted: [] }, state: evaluation.state, storeProblems: [] },
      1,
    );
    const doc = board.status();
    assert.deepEqual(
      doc.policies.map((p) => [p.name, p.matched, p.hosts, p.for_this_host]),
      [
        ['db-oom', 0, 'hosts: names db*', false],
        ['web-oom', 1, 'hosts: names web*', undefined],
      ],
    );
    const page = renderPage(doc, 5);
    assert.match(page, /db-oom.*not for this host \(hosts: names db\*\)/);
    assert.doesNotMatch(page, /web-oom[^\n]*not for this host/);
  });
});
