// The cpu kind and the load kind's pressure sources as tables of (policies, snapshots one
// cycle after the other, carrying the state) → plans: a CPU rate is the change of cpu_time
// between two cycles over the time between them, so the first cycle that sees a process is
// measuring, and a restarted process or a reused pid starts measuring again.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type ProcessEntry, type Snapshot } from '../../src/data/types.js';
import { dataValidator } from '../helpers/data-validators.js';
import { yaml } from '../helpers/policy-files.js';
import { actionLines, cycles, policySetOf, proc, program, snapshot, T0 } from '../helpers/snapshots.js';

interface Case {
  name: string;
  policies: string;
  /** One snapshot per cycle; one minute apart unless their times say otherwise. */
  snapshots: Snapshot[];
  /** Action lines per cycle (see actionLines). */
  actions: string[][];
  /** What the policy saw of each target, per cycle (observation details), when the case is about it. */
  details?: string[][];
}

/** A busy process: `cpu` seconds of CPU used so far. */
const busy = (pid: number, cpu: number, fields: Partial<ProcessEntry> = {}): ProcessEntry => proc(pid, 'worker', { cmdline: `worker ${pid}`, cpu_time: cpu, ...fields });
const at = (minute: number, processes: ProcessEntry[], fields: Partial<Snapshot> = {}): Snapshot => snapshot(processes, { time: T0 + 60 * minute, ...fields });

const cpuPolicy = (extra = ''): string => `policies: [{ name: hot, kind: cpu, match: { name: worker }, max_cpu: 80%, action: kill${extra} }]`;

const cpuCases: Case[] = [
  {
    name: 'the first cycle is measuring; the second acts on a rate over the limit',
    policies: cpuPolicy(),
    snapshots: [at(0, [busy(11, 100)]), at(1, [busy(11, 154)])],
    actions: [[], ['hot kill worker/11 planned: cpu 90% > 80% (cycle 1 of 1)']],
    details: [['cpu: measuring (first cycle that sees it; the rate needs two)'], ['cpu 90% > 80% (cycle 1 of 1)']],
  },
  {
    name: 'a rate exactly at the limit is not over it (strict >)',
    policies: cpuPolicy(),
    snapshots: [at(0, [busy(11, 100)]), at(1, [busy(11, 148)])],
    actions: [[], []],
    details: [['cpu: measuring (first cycle that sees it; the rate needs two)'], ['cpu 80% ≤ 80%']],
  },
  {
    name: 'above 100%: a threaded program using one and a half cores',
    policies: 'policies: [{ name: hot, kind: cpu, match: { name: worker }, max_cpu: 120%, action: kill, grace: 5s }]',
    snapshots: [at(0, [busy(11, 0)]), at(1, [busy(11, 90)])],
    actions: [[], ['hot kill worker/11 planned: cpu 150% > 120% (cycle 1 of 1)']],
  },
  {
    name: 'a process restarted between cycles (a new pid for the program) starts measuring again',
    policies: 'policies: [{ name: hot, kind: cpu, match: { program: "web:*" }, max_cpu: 50% }]',
    snapshots: [
      at(0, [program(11, 'web:w1', { cpu_time: 500 })]),
      at(1, [program(12, 'web:w1', { cpu_time: 55, start_time: T0 + 10 })]),
      at(2, [program(12, 'web:w1', { cpu_time: 115, start_time: T0 + 10 })]),
    ],
    actions: [[], [], ['hot restart web:w1 planned: cpu 100% > 50% (cycle 1 of 1)']],
    details: [['cpu: measuring (first cycle that sees it; the rate needs two)'], ['cpu: measuring (first cycle that sees it; the rate needs two)'], ['cpu 100% > 50% (cycle 1 of 1)']],
  },
  {
    name: 'a pid reused by another process (same pid, another start time) starts measuring again',
    policies: cpuPolicy(),
    snapshots: [at(0, [busy(11, 10)]), at(1, [busy(11, 80, { start_time: T0 + 30 })]), at(2, [busy(11, 81, { start_time: T0 + 30 })])],
    actions: [[], [], []],
    details: [['cpu: measuring (first cycle that sees it; the rate needs two)'], ['cpu: measuring (first cycle that sees it; the rate needs two)'], ['cpu 1.7% ≤ 80%']],
  },
  {
    name: 'a start time one clock tick later is another process',
    policies: cpuPolicy(),
    snapshots: [at(0, [busy(11, 10, { start_time: T0 - 100 })]), at(1, [busy(11, 70, { start_time: T0 - 99.99 })])],
    actions: [[], []],
    details: [['cpu: measuring (first cycle that sees it; the rate needs two)'], ['cpu: measuring (first cycle that sees it; the rate needs two)']],
  },
  {
    name: 'scope tree sums the members present in both cycles; a child that is new this cycle is not counted yet',
    policies: 'policies: [{ name: hot, kind: cpu, match: { cmdline: "^make " }, max_cpu: 150%, scope: tree, action: kill }]',
    snapshots: [
      at(0, [proc(20, 'make', { cmdline: 'make -j2', cpu_time: 1 }), proc(21, 'cc1', { ppid: 20, cpu_time: 0 }), proc(22, 'cc1', { ppid: 20, cpu_time: 0 })]),
      at(1, [proc(20, 'make', { cmdline: 'make -j2', cpu_time: 1 }), proc(21, 'cc1', { ppid: 20, cpu_time: 60 }), proc(23, 'cc1', { ppid: 20, cpu_time: 58, start_time: T0 + 2 })]),
      at(2, [proc(20, 'make', { cmdline: 'make -j2', cpu_time: 1 }), proc(21, 'cc1', { ppid: 20, cpu_time: 120 }), proc(23, 'cc1', { ppid: 20, cpu_time: 118, start_time: T0 + 2 })]),
    ],
    actions: [[], [], ['hot kill make/20 planned: tree cpu (3 processes) 200% > 150% (cycle 1 of 1)']],
    details: [['tree: measuring (first cycle that sees it; the rate needs two)'], ['tree cpu (2 processes) 100% ≤ 150%'], ['tree cpu (3 processes) 200% > 150% (cycle 1 of 1)']],
  },
  {
    name: 'scope group sums the matched processes and acts on the busiest',
    policies: 'policies: [{ name: hot, kind: cpu, match: { program: "web:*" }, max_cpu: 100%, scope: group }]',
    snapshots: [
      at(0, [program(11, 'web:w1', { cpu_time: 0 }), program(12, 'web:w2', { cpu_time: 0 }), program(13, 'web:w3', { cpu_time: 0 })]),
      at(1, [program(11, 'web:w1', { cpu_time: 30 }), program(12, 'web:w2', { cpu_time: 42 }), program(13, 'web:w3', { cpu_time: 6 })]),
    ],
    actions: [[], ['hot restart web:w2 planned: group cpu over 3 processes (busiest web:w2, 70%) 130% > 100% (cycle 1 of 1)']],
  },
  {
    name: 'for: 2 acts on the second consecutive rate over the limit; a measuring cycle counts again from zero',
    policies: cpuPolicy(', for: 2'),
    snapshots: [
      at(0, [busy(11, 0)]),
      at(1, [busy(11, 60)]),
      at(2, [busy(11, 120)]),
      at(3, [busy(11, 10, { start_time: T0 + 170 })]),
      at(4, [busy(11, 70, { start_time: T0 + 170 })]),
      at(5, [busy(11, 130, { start_time: T0 + 170 })]),
    ],
    actions: [[], [], ['hot kill worker/11 planned: cpu 100% > 80% (cycle 2 of 2)'], [], [], ['hot kill worker/11 planned: cpu 100% > 80% (cycle 2 of 2)']],
  },
  {
    name: "the interval is measured on the host's steady clock (since_boot) when both cycles have it, not on the wall clock",
    policies: cpuPolicy(),
    snapshots: [at(0, [busy(11, 0)], { since_boot: 1000 }), at(1, [busy(11, 27)], { since_boot: 1030 })],
    actions: [[], ['hot kill worker/11 planned: cpu 90% > 80% (cycle 1 of 1)']],
  },
  {
    name: 'a wall clock set back between two cycles (no steady clock) measures again rather than divide by a negative time',
    policies: cpuPolicy(),
    snapshots: [at(2, [busy(11, 0)]), at(1, [busy(11, 60)]), at(3, [busy(11, 180)])],
    actions: [[], [], ['hot kill worker/11 planned: cpu 100% > 80% (cycle 1 of 1)']],
  },
  {
    name: 'audit mode measures and plans the action as skipped',
    policies: 'policies: [{ name: hot, kind: cpu, mode: audit, match: { name: worker }, max_cpu: 10%, action: stop }]',
    snapshots: [at(0, [busy(11, 0)]), at(1, [busy(11, 30)])],
    actions: [[], ['hot stop worker/11 skipped: audit mode']],
  },
];

const memoryPressure = (avg10: number): Partial<Snapshot> => ({ pressure: { memory: { some: { avg10, avg60: 0, avg300: 0 }, full: { avg10: 0, avg60: 0, avg300: 0 } } } }) as Partial<Snapshot>;

const hostConditionCases: Case[] = [
  {
    name: 'only_when: a rate over the limit is held while the host is comfortable, and acted on once it is short of memory',
    policies: cpuPolicy(', only_when: { memory_pressure_above: 20 }'),
    snapshots: [at(0, [busy(11, 0)], memoryPressure(5)), at(1, [busy(11, 60)], memoryPressure(20)), at(2, [busy(11, 120)], memoryPressure(20.5))],
    actions: [[], [], ['hot kill worker/11 planned: cpu 100% > 80% (cycle 1 of 1); memory pressure 20.5% > 20%']],
    details: [
      ['cpu: measuring (first cycle that sees it; the rate needs two)'],
      ['cpu 100% > 80% (cycle 1 of 1); held: the host is comfortable (memory pressure 20% ≤ 20%)'],
      ['cpu 100% > 80% (cycle 1 of 1); memory pressure 20.5% > 20%'],
    ],
  },
  {
    name: 'only_when with available memory: held at exactly the threshold, acted on below it',
    policies: cpuPolicy(', only_when: { memory_available_below: 1GB }'),
    snapshots: [
      at(0, [busy(11, 0)], { memory: { total: 8 * 1024 ** 3, available: 1024 ** 3, swap_total: 0, swap_free: 0 } }),
      at(1, [busy(11, 60)], { memory: { total: 8 * 1024 ** 3, available: 1024 ** 3, swap_total: 0, swap_free: 0 } }),
      at(2, [busy(11, 120)], { memory: { total: 8 * 1024 ** 3, available: 1024 ** 3 - 1, swap_total: 0, swap_free: 0 } }),
    ],
    actions: [[], [], ['hot kill worker/11 planned: cpu 100% > 80% (cycle 1 of 1); available memory 1024.0 MiB < 1.0 GiB']],
  },
];

const pressure = (cpu: number, io = 0, memory = 0) => ({
  cpu: { some: { avg10: cpu, avg60: cpu / 2, avg300: cpu / 4 } },
  io: { some: { avg10: io, avg60: io, avg300: io }, full: { avg10: 0, avg60: 0, avg300: 0 } },
  memory: { some: { avg10: memory, avg60: memory, avg300: memory }, full: { avg10: 0, avg60: 0, avg300: 0 } },
});
const rsync = [proc(70, 'rsync', { cmdline: 'rsync -a /src /dst' }), proc(71, 'ssh', { ppid: 70, cmdline: 'ssh backup' })];
const underPressure = (minute: number, p: ReturnType<typeof pressure> | undefined, load: [number, number, number] = [0, 0, 0]): Snapshot =>
  at(minute, rsync, { load, ...(p ? ({ pressure: p } as Partial<Snapshot>) : {}) });

const pressureCases: Case[] = [
  {
    name: 'load source cpu_pressure: pauses above pause_above percent of the some avg10, holds in the band, resumes at resume_below',
    policies: 'policies: [{ name: backoff, kind: load, source: cpu_pressure, match: { name: rsync }, pause_above: 40, resume_below: 20 }]',
    snapshots: [underPressure(0, pressure(40)), underPressure(1, pressure(55.5), [9, 9, 9]), underPressure(2, pressure(30)), underPressure(3, pressure(20))],
    actions: [[], ['backoff pause rsync/70 planned: cpu pressure 55.50% (some, 10s) > 40%'], [], ['backoff resume rsync/70 planned: cpu pressure 20.00% (some, 10s) ≤ 20%']],
    details: [['cpu pressure 40.00% (some, 10s) ≤ 40%'], ['cpu pressure 55.50% (some, 10s) > 40%'], ['held paused: cpu pressure 30.00% (some, 10s), resumes at ≤ 20%'], []],
  },
  {
    name: 'load source cpu_pressure ignores the load average',
    policies: 'policies: [{ name: backoff, kind: load, source: cpu_pressure, match: { name: rsync }, pause_above: 40 }]',
    snapshots: [underPressure(0, pressure(1), [50, 50, 50])],
    actions: [[]],
  },
  {
    name: 'average 60s reads avg60 of the some line',
    policies: 'policies: [{ name: backoff, kind: load, source: cpu_pressure, average: 60s, match: { name: rsync }, pause_above: 40 }]',
    snapshots: [underPressure(0, pressure(70)), underPressure(1, pressure(90))],
    actions: [[], ['backoff pause rsync/70 planned: cpu pressure 45.00% (some, 60s) > 40%']],
  },
  {
    name: 'io_pressure and memory_pressure read their own files',
    policies: yaml`
      policies:
        - { name: io, kind: load, source: io_pressure, match: { name: rsync }, pause_above: 10 }
        - { name: mem, kind: load, source: memory_pressure, average: 300s, match: { name: ssh }, pause_above: 5 }
    `,
    snapshots: [underPressure(0, pressure(99, 11, 6))],
    actions: [['io pause rsync/70 planned: io pressure 11.00% (some, 10s) > 10%']],
  },
  {
    name: 'a snapshot without pressure: no pause, the reading is unknown',
    policies: 'policies: [{ name: backoff, kind: load, source: memory_pressure, match: { name: rsync }, pause_above: 1 }]',
    snapshots: [underPressure(0, undefined, [99, 99, 99])],
    actions: [[]],
    details: [['memory pressure unknown ≤ 1%']],
  },
];

describe('engine: cpu kind and pressure sources', () => {
  for (const c of [...cpuCases, ...hostConditionCases, ...pressureCases]) {
    it(c.name, () => {
      const results = cycles(policySetOf(c.policies), c.snapshots);
      assert.deepEqual(
        results.map((r) => actionLines(r.plan)),
        c.actions,
      );
      if (c.details) {
        assert.deepEqual(
          results.map((r) => r.observations.map((o) => o.detail)),
          c.details,
        );
      }
    });
  }

  it('a rate carries its measure in percent of one core, for the plan, the notification and the status page', () => {
    const [, second] = cycles(policySetOf(cpuPolicy()), [at(0, [busy(11, 0)]), at(1, [busy(11, 54)])]);
    assert.deepEqual(second!.plan.actions[0]!.measure, { value: 90, limit: 80, unit: 'percent', name: 'cpu' });
  });

  it('notifications say what was seen in the unit of each: a share of a core, a share of time stalled', () => {
    const set = policySetOf(yaml`
      notifiers:
        ops: { exec: [/bin/cat] }
      policies:
        - { name: hot, kind: cpu, match: { name: worker }, max_cpu: 80%, action: kill, notify: [{ to: ops }] }
        - { name: backoff, kind: load, source: io_pressure, match: { name: rsync }, pause_above: 40, notify: [{ to: ops }] }
    `);
    const [, second] = cycles(set, [
      at(0, [busy(11, 0), ...rsync], { pressure: pressure(0, 1) } as Partial<Snapshot>),
      at(1, [busy(11, 57), ...rsync], { pressure: pressure(0, 47.25) } as Partial<Snapshot>),
    ]);
    assert.deepEqual(
      second!.plan.notifications.map((n) => n.subject),
      ['procguard: hot: kill worker (pid 11) on web1 (cpu 95%, over the limit of 80%)', 'procguard: backoff: pause rsync (pid 70) on web1 (io pressure 47.3%, over the threshold of 40%)'],
    );
  });

  it('the first cycle of a policy says in the plan that it is measuring, and why; the next one does not', () => {
    const [first, second] = cycles(policySetOf(cpuPolicy()), [at(0, [busy(11, 0), busy(12, 0)]), at(1, [busy(11, 1), busy(12, 1), busy(13, 0)])]);
    assert.deepEqual(first!.plan.warnings, [
      'policy "hot": measuring 2 targets: a CPU rate is the change between two cycles, and this is the first that sees them (check alone reads one snapshot: pass --state, or let apply or run keep the last reading in the state directory)',
    ]);
    assert.equal(second!.plan.warnings, undefined);
  });

  it('a snapshot without cpu_time (an older snapshot file) says no rate can be measured', () => {
    const { plan } = evaluate(policySetOf(cpuPolicy()), snapshot([proc(11, 'worker')]), emptyState(), T0);
    assert.deepEqual(plan.warnings, ['policy "hot": the snapshot gives no cpu_time for 1 target: no CPU rate can be measured']);
  });

  it('the state keeps each reading by pid and start time in clock ticks, valid against the state schema, and forgets a process gone', () => {
    const [first, second] = cycles(policySetOf(cpuPolicy()), [at(0, [busy(11, 12.5)], { since_boot: 500.25 }), at(1, [], { since_boot: 560.25 })]);
    assert.deepEqual(first!.state.targets, { hot: { [`pid:11:${(T0 - 100) * 100}`]: { cpu: { time: T0, since_boot: 500.25, processes: { [`11:${(T0 - 100) * 100}`]: 12.5 } } } } });
    const valid = dataValidator('state.schema.json');
    assert.ok(valid(first!.state), JSON.stringify(valid.errors));
    assert.deepEqual(second!.state.targets, {});
  });

  it("a supervised program's reading is dropped when the policy no longer sees it", () => {
    const set = policySetOf('policies: [{ name: hot, kind: cpu, match: { program: "web:*" }, max_cpu: 50% }]');
    const [, second] = cycles(set, [at(0, [program(11, 'web:w1', { cpu_time: 5 })]), at(1, [program(11, 'db:d1', { cpu_time: 6 })])]);
    assert.deepEqual(second!.state.targets, {});
  });
});
