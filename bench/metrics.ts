// What procguard's metrics cost beside the evaluation they report on, measured in the same run:
// a host of PROGRAMS supervisord programs, each matched by a memory and a runtime policy in
// audit mode (a finding on every one, the most series there can be). A cycle only records what
// it saw (cycleDone); the series are worked out when /metrics is read (text).
//   node --import tsx bench/metrics.ts   (PROCGUARD_BENCH_QUICK=1 runs fewer repetitions)

import { evaluate } from '../src/engine/evaluate.js';
import { emptyState } from '../src/data/types.js';
import type { CycleResult } from '../src/modes/cycle.js';
import { Metrics } from '../src/status/metrics.js';
import { cycles, MiB, policySetOf, program, snapshot } from '../test/helpers/snapshots.js';
import { medianMs } from './measure.js';

const RUNS = process.env.PROCGUARD_BENCH_QUICK === '1' ? 5 : 21;
const POLICIES = policySetOf(`
supervisors:
  main: { url: "unix:///run/supervisor.sock" }
policies:
  - { name: web-memory, kind: memory, mode: audit, match: { program: "*" }, max_rss: 100MB }
  - { name: web-runtime, kind: runtime, mode: audit, match: { program: "*" }, max_runtime: 1h }
`);

process.stdout.write('programs  evaluate ms  cycleDone ms  /metrics ms  /metrics ÷ evaluate  KiB   samples\n');
for (const programs of [100, 1000]) {
  const snap = snapshot(Array.from({ length: programs }, (_, i) => program(1000 + i, `g${i % 50}:p${i}`, { rss: (50 + (i % 100)) * MiB })));
  const [evaluation] = cycles(POLICIES, [snap]);
  const result: CycleResult = {
    snapshot: snap,
    evaluation: evaluation!,
    execution: { plan: evaluation!.plan, outcomes: [], pending: [], audit: [], failed: false, restarted: [] },
    state: evaluation!.state,
    storeProblems: [],
  };
  const metrics = new Metrics({ supervisors: () => ['main'] });
  const evaluating = await medianMs(() => evaluate(POLICIES, snap, emptyState(), snap.time, { timeZone: 'UTC' }), { runs: RUNS });
  const recording = await medianMs(() => metrics.cycleDone(result, 1), { runs: RUNS });
  let text = '';
  const scraping = await medianMs(
    async () => {
      metrics.cycleDone(result, 1);
      text = await metrics.text();
    },
    { runs: RUNS },
  );
  const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  process.stdout.write(
    `${String(programs).padStart(8)}  ${evaluating.toFixed(2).padStart(11)}  ${recording.toFixed(2).padStart(12)}  ${scraping.toFixed(2).padStart(11)}  ${(scraping / evaluating).toFixed(2).padStart(18)}×  ${String(Math.round(text.length / 1024)).padStart(4)}  ${String(samples).padStart(7)}\n`,
  );
}
