// The per-supervisor, per-program and per-target series of one cycle, from an evaluation of
// fixed snapshots: labels, values, the aggregation of processes sharing a name, and the series
// gone with what they were about.
import assert from 'node:assert/strict';
import { emptyState, type EngineState, type Snapshot } from '../../src/data/types.js';
import type { CycleResult } from '../../src/modes/cycle.js';
import { cycleSeries, type Sample } from '../../src/status/cycle-series.js';
import { Metrics } from '../../src/status/metrics.js';
import { cycles, MiB, policySetOf, proc, program, snapshot, T0 } from '../helpers/snapshots.js';

const POLICIES = policySetOf(`
supervisors:
  main: { url: "unix:///run/supervisor.sock" }
  batch: { url: "unix:///run/batch.sock" }
policies:
  - { name: web-memory, kind: memory, mode: audit, match: { program: "web:*" }, max_rss: 100MB }
  - { name: worker-memory, kind: memory, match: { name: worker, user: root }, max_rss: 50MB, for: 3 }
  - { name: web-runtime, kind: runtime, mode: audit, match: { program: "web:*" }, max_runtime: 1h }
`);

function resultOf(snap: Snapshot, state: EngineState = emptyState()): CycleResult {
  const [evaluation] = cycles(POLICIES, [snap], state);
  return {
    snapshot: snap,
    evaluation: evaluation!,
    execution: { plan: evaluation!.plan, outcomes: [], pending: [], audit: [], failed: false, restarted: [] },
    state: evaluation!.state,
    storeProblems: [],
  };
}

const byLabels = (samples: Sample[]): Record<string, number> => Object.fromEntries(samples.map((s) => [Object.values(s.labels).join('/'), s.value]));

describe('status: the series of one cycle', () => {
  const snap = snapshot(
    [
      program(601, 'web:web_00', { rss: 150 * MiB, start_time: T0 - 7200 }),
      program(602, 'web:web_01', { rss: 20 * MiB, start_time: T0 - 60 }),
      program(0, 'web:web_02', { rss: undefined }),
      proc(701, 'worker', { rss: 40 * MiB, uid: 0, user: 'root' }),
      proc(702, 'worker', { rss: 70 * MiB, uid: 0, user: 'root' }),
    ],
    { errors: [{ source: 'supervisor:batch', message: 'connection refused' }] },
  );
  const series = cycleSeries(resultOf(snap), ['main', 'batch']);

  it('each supervisor: 1 when it answered, 0 when not', () => {
    assert.deepEqual(byLabels(series.supervisorUp), { main: 1, batch: 0 });
  });

  it("each program: up, supervisord's state code, and the start time of a running one", () => {
    assert.deepEqual(byLabels(series.programUp), { 'main/web/web_00': 1, 'main/web/web_01': 1, 'main/web/web_02': 0 });
    assert.deepEqual(byLabels(series.programState), { 'main/web/web_00': 20, 'main/web/web_01': 20, 'main/web/web_02': 0 });
    assert.deepEqual(byLabels(series.programStartTime), { 'main/web/web_00': T0 - 7200, 'main/web/web_01': T0 - 60 });
  });

  it("each target's value and limit by unit; processes of one name are the one nearest its limit", () => {
    assert.deepEqual(byLabels(series.measured.bytes), {
      'web-memory/main/web/web_00': 150 * MiB,
      'web-memory/main/web/web_01': 20 * MiB,
      'worker-memory///worker': 70 * MiB,
    });
    assert.deepEqual(byLabels(series.limit.bytes), { 'web-memory/main/web/web_00': 100 * MiB, 'web-memory/main/web/web_01': 100 * MiB, 'worker-memory///worker': 50 * MiB });
    assert.deepEqual(byLabels(series.measured.seconds), { 'web-runtime/main/web/web_00': 7200, 'web-runtime/main/web/web_01': 60 });
    assert.deepEqual(byLabels(series.limit.seconds), { 'web-runtime/main/web/web_00': 3600, 'web-runtime/main/web/web_01': 3600 });
  });

  it('cycles over: the count of `for`, 1 for a target over now, 0 under the limit', () => {
    const over = byLabels(series.cyclesOver);
    assert.equal(over['worker-memory///worker'], 1);
    assert.equal(over['web-memory/main/web/web_00'], 1);
    assert.equal(over['web-memory/main/web/web_01'], 0);
    // A cycle later the worker has been over for two (of the three its policy waits for).
    const [, second] = cycles(POLICIES, [snap, snap]);
    const later = cycleSeries({ ...resultOf(snap), evaluation: second!, state: second!.state }, ['main']);
    assert.equal(byLabels(later.cyclesOver)['worker-memory///worker'], 2);
  });

  it('paused trees by policy, since when (the earliest of one name), and the failing conditions', () => {
    const state: EngineState = {
      ...emptyState(),
      paused: [
        { policy: 'rsync-backoff', root: { pid: 801, start_time: T0 - 10, name: 'rsync' }, processes: [{ pid: 801, start_time: T0 - 10 }], since: T0 - 300 },
        { policy: 'rsync-backoff', root: { pid: 802, start_time: T0 - 10, name: 'rsync' }, processes: [{ pid: 802, start_time: T0 - 10 }], since: T0 - 100 },
      ],
      lasting: [
        {
          policy: 'web-memory',
          action: 'restart',
          target_key: 'supervisor:main:web:web_00',
          target: { pid: 601, name: 'web_00' },
          kind: 'failing',
          first_seen: T0 - 600,
          last_seen: T0,
          attempts: 3,
          error: 'SPAWN_ERROR',
        },
        { policy: 'web-memory', action: 'restart', target_key: 'supervisor:main:web:web_01', target: { pid: 602, name: 'web_01' }, kind: 'audit', first_seen: T0 - 600, last_seen: T0, attempts: 3 },
      ],
    };
    const result = resultOf(snap);
    const paused = cycleSeries({ ...result, state }, ['main']);
    assert.deepEqual(byLabels(paused.pausedTrees), { 'rsync-backoff': 2 });
    assert.deepEqual(byLabels(paused.pausedSince), { 'rsync-backoff///rsync': T0 - 300 });
    assert.deepEqual(byLabels(paused.failingConditions), { 'web-memory/restart': 1 });
  });

  it('a program gone since the cycle before is gone from the metrics', async () => {
    const metrics = new Metrics({ supervisors: () => ['main'] });
    metrics.cycleDone(resultOf(snap), 10);
    assert.match(await metrics.text(), /^procguard_program_state\{supervisor="main",group="web",name="web_02"\} 0$/m);
    metrics.cycleDone(resultOf(snapshot([program(601, 'web:web_00', { rss: 150 * MiB })])), 10);
    const text = await metrics.text();
    assert.doesNotMatch(text, /web_02|web_01/);
    assert.match(text, /^procguard_program_up\{supervisor="main",group="web",name="web_00"\} 1$/m);
  });

  it('the counters of a file written before go on', async () => {
    const metrics = new Metrics({ supervisors: () => [], oneRun: true });
    metrics.seedCounters(
      '# HELP x\nprocguard_actions_total{policy="a \\"b\\"",action="restart",status="done"} 4\nprocguard_cycles_total{result="ok"} 7\nprocguard_cycles_total{bogus="1"} 3\nnot a sample\n',
    );
    metrics.cycleDone(resultOf(snap), 10);
    const text = await metrics.text();
    assert.match(text, /^procguard_actions_total\{policy="a \\"b\\"",action="restart",status="done"\} 4$/m);
    assert.match(text, /^procguard_cycles_total\{result="ok"\} 8$/m);
    assert.doesNotMatch(text, /bogus|_bucket/);
  });
});
