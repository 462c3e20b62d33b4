// Memory policies by RSS, PSS, USS or swap; limits as shares of the host's memory; only_when.
// Each rule as (policies, snapshot, state) → plan, at the edges: exactly at the limit, available
// memory exactly at the threshold, a host without PSI.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type ProcessEntry, type Snapshot } from '../../src/data/types.js';
import { diagnosticLines } from '../helpers/policy-files.js';
import { MiB, policySetOf, proc, program, snapshot, T0 } from '../helpers/snapshots.js';

const GiB = 1024 * MiB;
const HOST_MEMORY = { total: 10 * GiB, available: 4 * GiB, swap_total: 0, swap_free: 0 };
const CALM = { avg10: 0, avg60: 0, avg300: 0 };

function judge(policy: string, processes: ProcessEntry[], fields: Partial<Snapshot> = {}) {
  const set = policySetOf(`policies:\n  - ${policy}\n`);
  const { plan, observations } = evaluate(set, snapshot(processes, fields), emptyState(), T0);
  return {
    actions: plan.actions.map((a) => `${a.action} ${a.target.namespec ?? a.target.pid}: ${a.reason}`),
    observations: observations.map((o) => `${o.verdict} ${o.target.namespec ?? o.target.pid}: ${o.detail}`),
    measures: plan.actions.map((a) => a.measure),
    errors: plan.errors.map((e) => `${e.source}: ${e.message}`),
  };
}

describe('memory policies: measures, shares of the host, only_when', () => {
  describe('each measure, at and over its limit', () => {
    const table: [string, string, Partial<ProcessEntry>, string[]][] = [
      ['rss exactly at the limit', 'max_rss: 100MB', { rss: 100 * MiB }, []],
      ['rss one byte over', 'max_rss: 100MB', { rss: 100 * MiB + 1 }, ['restart web:w1: rss 100.0 MiB > 100.0 MiB (cycle 1 of 1)']],
      ['pss exactly at the limit', 'max_pss: 50MB', { rss: 500 * MiB, pss: 50 * MiB, uss: 10 * MiB, swap: 0 }, []],
      ['pss over, rss far over too', 'max_pss: 50MB', { rss: 500 * MiB, pss: 60 * MiB, uss: 10 * MiB, swap: 0 }, ['restart web:w1: pss 60.0 MiB > 50.0 MiB (cycle 1 of 1)']],
      ['uss over', 'max_uss: 20MB', { rss: 500 * MiB, pss: 60 * MiB, uss: 21 * MiB, swap: 0 }, ['restart web:w1: uss 21.0 MiB > 20.0 MiB (cycle 1 of 1)']],
      ['uss at the limit', 'max_uss: 20MB', { rss: 500 * MiB, pss: 60 * MiB, uss: 20 * MiB, swap: 0 }, []],
      ['swap over', 'max_swap: 1MB', { rss: 5 * MiB, pss: 5 * MiB, uss: 5 * MiB, swap: 2 * MiB }, ['restart web:w1: swap 2.0 MiB > 1.0 MiB (cycle 1 of 1)']],
      ['swap at the limit', 'max_swap: 1MB', { rss: 5 * MiB, pss: 5 * MiB, uss: 5 * MiB, swap: MiB }, []],
    ];
    for (const [title, limit, fields, expected] of table) {
      it(title, () => {
        assert.deepEqual(judge(`{ name: m, kind: memory, match: { program: "web:*" }, ${limit} }`, [program(10, 'web:w1', fields)]).actions, expected);
      });
    }

    it('a process whose smaps_rollup was not read is not judged, and says so', () => {
      const result = judge('{ name: m, kind: memory, match: { program: "web:*" }, max_pss: 1MB }', [program(10, 'web:w1', { rss: 500 * MiB })]);
      assert.deepEqual(result.actions, []);
      assert.match(result.observations[0]!, /^ok web:w1: pss not read/);
    });

    it('PSS and USS are never above RSS: a process within the limit by RSS is within it unread, saying so', () => {
      for (const key of ['max_pss', 'max_uss']) {
        const result = judge(`{ name: m, kind: memory, match: { program: "web:*" }, ${key}: 100MB }`, [program(10, 'web:w1', { rss: 100 * MiB })]);
        assert.deepEqual(result.observations, [`ok web:w1: ${key.slice(4)} ≤ its rss 100.0 MiB ≤ 100.0 MiB`]);
      }
      // Swap has no such bound.
      assert.match(judge('{ name: m, kind: memory, match: { program: "web:*" }, max_swap: 100MB }', [program(10, 'web:w1', { rss: MiB })]).observations[0]!, /swap not read/);
      const tree = [program(10, 'app:app', { rss: 100 * MiB }), proc(11, 'worker', { ppid: 10, rss: 100 * MiB })];
      assert.deepEqual(judge('{ name: t, kind: memory, match: { program: app }, scope: tree, max_pss: 200MB }', tree).observations, [
        'ok app:app: tree pss (2 processes) ≤ its rss 200.0 MiB ≤ 200.0 MiB',
      ]);
    });

    it('the plan carries the measure by name', () => {
      const result = judge('{ name: m, kind: memory, match: { program: "web:*" }, max_uss: 20MB }', [program(10, 'web:w1', { pss: 30 * MiB, uss: 21 * MiB, swap: 0 })]);
      assert.deepEqual(result.measures, [{ value: 21 * MiB, limit: 20 * MiB, unit: 'bytes', name: 'uss' }]);
    });
  });

  describe('scope tree and group sum the chosen measure', () => {
    // A preforking server: a master and three workers sharing most of their 200 MiB.
    const forker = [
      program(10, 'app:app', { rss: 210 * MiB, pss: 60 * MiB, uss: 10 * MiB, swap: 0 }),
      ...[11, 12, 13].map((pid) => proc(pid, 'worker', { ppid: 10, rss: 205 * MiB, pss: 55 * MiB, uss: 5 * MiB, swap: 0 })),
    ];

    it('tree: summed RSS counts the shared pages four times, summed PSS once', () => {
      assert.deepEqual(judge('{ name: t, kind: memory, match: { program: app }, scope: tree, max_rss: 500MB }', forker).actions, [
        'restart app:app: tree rss (4 processes) 825.0 MiB > 500.0 MiB (cycle 1 of 1)',
      ]);
      assert.deepEqual(judge('{ name: t, kind: memory, match: { program: app }, scope: tree, max_pss: 500MB }', forker).observations, ['ok app:app: tree pss (4 processes) 225.0 MiB ≤ 500.0 MiB']);
      assert.deepEqual(judge('{ name: t, kind: memory, match: { program: app }, scope: tree, max_uss: 20MB }', forker).actions, [
        'restart app:app: tree uss (4 processes) 25.0 MiB > 20.0 MiB (cycle 1 of 1)',
      ]);
    });

    it('group: sums the measure and acts on the process largest by it', () => {
      const group = [program(20, 'pool:a', { rss: 300 * MiB, pss: 40 * MiB, uss: 1 * MiB, swap: 0 }), program(21, 'pool:b', { rss: 100 * MiB, pss: 90 * MiB, uss: 80 * MiB, swap: 0 })];
      assert.deepEqual(judge('{ name: g, kind: memory, match: { group: pool }, scope: group, max_pss: 100MB }', group).actions, [
        'restart pool:b: group pss over 2 processes (largest pool:b, 90.0 MiB) 130.0 MiB > 100.0 MiB (cycle 1 of 1)',
      ]);
    });

    it('a tree member without the measure is counted as not read', () => {
      const partly = [program(10, 'app:app', { rss: 700 * MiB, pss: 600 * MiB, uss: 1, swap: 0 }), proc(11, 'worker', { ppid: 10 })];
      assert.deepEqual(judge('{ name: t, kind: memory, match: { program: app }, scope: tree, max_pss: 500MB }', partly).actions, [
        'restart app:app: tree pss (2 processes, 1 not read) 600.0 MiB > 500.0 MiB (cycle 1 of 1)',
      ]);
    });
  });

  describe('a limit as a share of the host memory', () => {
    it('resolves against memory.total, acting only strictly over it, and shows the share and the bytes', () => {
      const policy = '{ name: p, kind: memory, match: { program: "web:*" }, max_pss: 15% }';
      // 15% of 10 GiB = 1.5 GiB exactly.
      const at = judge(policy, [program(10, 'web:w1', { pss: 1.5 * GiB, uss: 0, swap: 0 })], { memory: HOST_MEMORY });
      assert.deepEqual(at.actions, []);
      assert.deepEqual(at.observations, ['ok web:w1: pss 1.5 GiB ≤ 15% (1.5 GiB)']);
      const over = judge(policy, [program(10, 'web:w1', { pss: 1.5 * GiB + 1, uss: 0, swap: 0 })], { memory: HOST_MEMORY });
      assert.deepEqual(over.actions, ['restart web:w1: pss 1.5 GiB > 15% (1.5 GiB) (cycle 1 of 1)']);
      assert.deepEqual(over.measures, [{ value: 1.5 * GiB + 1, limit: 1.5 * GiB, unit: 'bytes', name: 'pss', limit_percent: 15 }]);
    });

    it('a snapshot without the host memory judges nothing and is an error (exit 3)', () => {
      const result = judge('{ name: p, kind: memory, match: { program: "web:*" }, max_rss: 12.5% }', [program(10, 'web:w1', { rss: 100 * GiB })]);
      assert.deepEqual(result.actions, []);
      assert.deepEqual(result.errors, ['meminfo: the snapshot has no host memory (/proc/meminfo); policy "p" needs it']);
      assert.match(result.observations[0]!, /^hold web:w1: rss not judged: the limit is 12\.5% of the host's memory/);
    });
  });

  describe('only_when', () => {
    const over = [program(10, 'web:w1', { rss: 300 * MiB })];
    const policy = (when: string) => `{ name: w, kind: memory, match: { program: "web:*" }, max_rss: 200MB, only_when: { ${when} } }`;

    it('holds while available memory is exactly at the threshold, acts once it is below', () => {
      // 40% of 10 GiB = 4 GiB, exactly what is available.
      const held = judge(policy('memory_available_below: 40%'), over, { memory: HOST_MEMORY });
      assert.deepEqual(held.actions, []);
      assert.deepEqual(held.observations, ['hold web:w1: rss 300.0 MiB > 200.0 MiB (cycle 1 of 1); held: the host is comfortable (available memory 4.0 GiB ≥ 40% (4.0 GiB))']);
      const acted = judge(policy('memory_available_below: 40%'), over, { memory: { ...HOST_MEMORY, available: 4 * GiB - 1 } });
      assert.deepEqual(acted.actions, ['restart web:w1: rss 300.0 MiB > 200.0 MiB (cycle 1 of 1); available memory 4.0 GiB < 40% (4.0 GiB)']);
    });

    it('takes a size as the threshold', () => {
      assert.deepEqual(judge(policy('memory_available_below: 4GB'), over, { memory: HOST_MEMORY }).actions, []);
      assert.equal(judge(policy('memory_available_below: 5GB'), over, { memory: HOST_MEMORY }).actions.length, 1);
    });

    it('compares memory pressure (some avg10) strictly: at the threshold it holds', () => {
      const pressure = (avg10: number) => ({ pressure: { memory: { some: { avg10, avg60: 0, avg300: 0 }, full: CALM } } });
      assert.deepEqual(judge(policy('memory_pressure_above: 20'), over, pressure(20)).actions, []);
      assert.deepEqual(judge(policy('memory_pressure_above: 20'), over, pressure(20.01)).actions, ['restart web:w1: rss 300.0 MiB > 200.0 MiB (cycle 1 of 1); memory pressure 20.01% > 20%']);
    });

    it('with both conditions acts when either holds', () => {
      const both = policy('memory_available_below: 1GB, memory_pressure_above: 20');
      const calm = { memory: HOST_MEMORY, pressure: { memory: { some: CALM, full: CALM } } };
      assert.deepEqual(judge(both, over, calm).actions, []);
      assert.equal(judge(both, over, { ...calm, memory: { ...HOST_MEMORY, available: 512 * MiB } }).actions.length, 1);
    });

    it('on a host without PSI holds, says why, and is an error naming the policy', () => {
      const result = judge(policy('memory_pressure_above: 20'), over);
      assert.deepEqual(result.actions, []);
      assert.deepEqual(result.observations, ['hold web:w1: rss 300.0 MiB > 200.0 MiB (cycle 1 of 1); held: the host is comfortable (memory pressure unknown (no PSI))']);
      assert.deepEqual(result.errors, ['pressure: the snapshot has no memory pressure (PSI, /proc/pressure/memory); policy "w" needs it']);
    });

    it('counts its cycles while holding, and acts on the first cycle the host is short', () => {
      const set = policySetOf(`policies:\n  - { name: w, kind: memory, match: { program: "web:*" }, max_rss: 200MB, for: 2, only_when: { memory_available_below: 1GB } }\n`);
      let state = emptyState();
      const verdicts: string[] = [];
      for (const [i, available] of [8 * GiB, 8 * GiB, 8 * GiB, 512 * MiB].entries()) {
        const result = evaluate(set, snapshot(over, { time: T0 + 60 * i, memory: { ...HOST_MEMORY, available } }), state, T0 + 60 * i);
        verdicts.push(result.plan.actions.map((a) => a.action).join() || 'none');
        state = result.state;
      }
      assert.deepEqual(verdicts, ['none', 'none', 'none', 'restart']);
    });
  });

  describe('validate', () => {
    const lines = (policy: string) => diagnosticLines({ 'p.yaml': `policies:\n  - ${policy}\n` }).filter((l) => !l.includes('no supervisors are configured'));

    it('suggests max_rss for max_rsss', () => {
      const found = lines('{ name: m, kind: memory, match: { program: web }, max_rsss: 100MB }');
      assert.ok(
        found.some((l) => /Unexpected key "max_rsss" in policy "m"; did you mean "max_rss"\?/.test(l)),
        found.join('\n'),
      );
    });

    it('wants exactly one measure', () => {
      assert.deepEqual(lines('{ name: m, kind: memory, match: { program: web } }'), ['p.yaml:2:5: error: Policy "m" needs "max_rss", "max_pss", "max_uss" or "max_swap"']);
      assert.deepEqual(lines('{ name: m, kind: memory, match: { program: web }, max_rss: 1GB, max_pss: 500MB }'), ['p.yaml:2:5: error: Policy "m" sets both "max_rss" and "max_pss"; use only one']);
    });

    it('refuses a share above 100%, and a limit that is neither a size nor a share', () => {
      assert.deepEqual(lines('{ name: m, kind: memory, match: { program: web }, max_pss: 101% }'), [
        'p.yaml:2:64: error: Invalid share "101%" for "max_pss" in policy "m": at most 100% of the host\'s memory',
      ]);
      const other = lines('{ name: m, kind: memory, match: { program: web }, max_pss: lots }');
      assert.match(other.join('\n'), /Invalid size "lots" for "max_pss" in policy "m": .*or a share of the host's memory from 0% to 100%, e\.g\. 15%/);
      assert.match(
        lines('{ name: m, kind: memory, match: { program: web }, max_rss: 1GB, only_when: { memory_available_below: 150% } }').join('\n'),
        /Invalid share "150%" for "only_when.memory_available_below"/,
      );
      assert.match(
        lines('{ name: m, kind: memory, match: { program: web }, max_rss: 1GB, only_when: { memory_pressure_above: 120 } }').join('\n'),
        /"only_when.memory_pressure_above" in policy "m" must be between 0 and 100, not 120/,
      );
    });

    it('warns about a limit of 0 whichever the measure', () => {
      assert.match(lines('{ name: m, kind: memory, match: { program: web }, max_uss: 0% }').join('\n'), /warning: "max_uss" is 0 in policy "m"/);
    });
  });
});
