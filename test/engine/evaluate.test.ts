// The engine's rules as tables: policies + snapshots (+ state) → the plan, exactly.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/engine/evaluate.js';
import { indexSnapshot, processLookup } from '../../src/data/host-index.js';
import { emptyState, type EngineState, type Snapshot } from '../../src/data/types.js';
import { yaml } from '../helpers/policy-files.js';
import { actionLines, cycles, MiB, policySetOf, proc, program, snapshot, T0 } from '../helpers/snapshots.js';

interface Case {
  name: string;
  policies: string;
  /** One snapshot per cycle. */
  snapshots: Snapshot[];
  state?: EngineState;
  /** Action lines per cycle (see actionLines). */
  actions: string[][];
}

const memoryCases: Case[] = [
  {
    name: 'restarts a program whose rss is over the limit',
    policies: 'policies: [{ name: web, kind: memory, match: { program: "web:*" }, max_rss: 10MB }]',
    snapshots: [snapshot([program(11, 'web:w1', { rss: 20 * MiB }), program(12, 'web:w2', { rss: 5 * MiB }), program(13, 'other', { rss: 50 * MiB })])],
    actions: [['web restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)']],
  },
  {
    name: 'rss equal to the limit is not over it (strict >)',
    policies: 'policies: [{ name: web, kind: memory, match: { program: "*" }, max_rss: 10MB }]',
    snapshots: [snapshot([program(11, 'web:w1', { rss: 10 * MiB }), program(12, 'web:w2', { rss: 10 * MiB + 1 })])],
    actions: [['web restart web:w2 planned: rss 10.0 MiB > 10.0 MiB (cycle 1 of 1)']],
  },
  {
    name: 'for: 2 acts on the second consecutive cycle, then counts again from zero',
    policies: 'policies: [{ name: web, kind: memory, match: { program: "*" }, max_rss: 10MB, for: 2 }]',
    snapshots: [1, 2, 3, 4].map(() => snapshot([program(11, 'web:w1', { rss: 20 * MiB })])),
    actions: [[], ['web restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 2 of 2)'], [], ['web restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 2 of 2)']],
  },
  {
    name: 'for: 2 resets when the rss falls back under the limit',
    policies: 'policies: [{ name: web, kind: memory, match: { program: "*" }, max_rss: 10MB, for: 2 }]',
    snapshots: [20, 5, 20, 20].map((rss) => snapshot([program(11, 'web:w1', { rss: rss * MiB })])),
    actions: [[], [], [], ['web restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 2 of 2)']],
  },
  {
    name: 'the counter of a supervisord program survives its new pid',
    policies: 'policies: [{ name: web, kind: memory, match: { program: "*" }, max_rss: 10MB, for: 2 }]',
    snapshots: [snapshot([program(11, 'web:w1', { rss: 20 * MiB })]), snapshot([program(99, 'web:w1', { rss: 20 * MiB })])],
    actions: [[], ['web restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 2 of 2)']],
  },
  {
    name: 'name is the process name; argv[0] counts only for a name the kernel cut at 15 characters',
    policies: 'policies: [{ name: big, kind: memory, match: { name: [python3, systemd-journald] }, max_rss: 10MB, action: kill }]',
    snapshots: [
      snapshot([
        proc(40, 'python3', { rss: 20 * MiB, cmdline: '/usr/bin/python3 app.py' }),
        proc(41, 'supervisord', { rss: 20 * MiB, cmdline: '/usr/bin/python3 /usr/bin/supervisord' }),
        proc(42, 'systemd-journal', { rss: 20 * MiB, cmdline: '/lib/systemd/systemd-journald' }),
      ]),
    ],
    actions: [['big kill python3/40 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)', 'big kill systemd-journal/42 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)']],
  },
  {
    name: 'a regex name and an exact one together: each process once, in snapshot order, argv[0] only for a cut name',
    policies: 'policies: [{ name: big, kind: memory, match: { name: ["/^php-fpm/", "/journald$/", rsync] }, max_rss: 10MB, action: kill }]',
    snapshots: [
      snapshot([
        proc(40, 'php-fpm8.2', { rss: 20 * MiB, cmdline: 'php-fpm: pool www' }),
        proc(41, 'rsync', { rss: 20 * MiB, cmdline: 'rsync -a /srv/ backup:/srv/' }),
        proc(42, 'systemd-journal', { rss: 20 * MiB, cmdline: '/lib/systemd/systemd-journald' }),
        proc(43, 'bash', { rss: 20 * MiB, cmdline: '/usr/sbin/php-fpm-wrapper' }),
        proc(44, 'php-fpm8.2', { rss: 20 * MiB, cmdline: 'php-fpm: pool api' }),
      ]),
    ],
    actions: [
      [
        'big kill php-fpm8.2/40 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)',
        'big kill rsync/41 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)',
        'big kill systemd-journal/42 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)',
        'big kill php-fpm8.2/44 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)',
      ],
    ],
  },
  {
    name: 'a process that vanished is forgotten: its counter does not carry to a new one with its pid',
    policies: 'policies: [{ name: big, kind: memory, match: { name: worker }, max_rss: 10MB, for: 2, action: kill }]',
    snapshots: [
      snapshot([proc(40, 'worker', { rss: 20 * MiB })]),
      snapshot([]),
      snapshot([proc(40, 'worker', { rss: 20 * MiB, start_time: T0 + 100 })]),
      snapshot([proc(40, 'worker', { rss: 20 * MiB, start_time: T0 + 100 })]),
    ],
    actions: [[], [], [], ['big kill worker/40 planned: rss 20.0 MiB > 10.0 MiB (cycle 2 of 2)']],
  },
  {
    name: 'scope tree sums the process and all its descendants (memmon -c)',
    policies: 'policies: [{ name: web, kind: memory, match: { program: "web" }, max_rss: 10MB, scope: tree }]',
    snapshots: [
      snapshot([
        program(11, 'web', { rss: 4 * MiB }),
        proc(20, 'child', { ppid: 11, rss: 3 * MiB }),
        proc(21, 'grandchild', { ppid: 20, rss: 4 * MiB }),
        proc(22, 'unrelated', { ppid: 1, rss: 40 * MiB }),
      ]),
    ],
    actions: [['web restart web:web planned: tree rss (3 processes) 11.0 MiB > 10.0 MiB (cycle 1 of 1)']],
  },
  {
    name: 'scope group sums every matched process and acts on the largest',
    policies: 'policies: [{ name: pool, kind: memory, match: { group: web }, max_rss: 10MB, scope: group }]',
    snapshots: [snapshot([program(11, 'web:w1', { rss: 3 * MiB }), program(12, 'web:w2', { rss: 5 * MiB }), program(13, 'web:w3', { rss: 3 * MiB })])],
    actions: [['pool restart web:w2 planned: group rss over 3 processes (largest web:w2, 5.0 MiB) 11.0 MiB > 10.0 MiB (cycle 1 of 1)']],
  },
  {
    name: 'a process asked for by several policies gets one disruptive action: the first in file order',
    policies: yaml`
      policies:
        - { name: first, kind: memory, match: { program: "web:*" }, max_rss: 10MB }
        - { name: second, kind: memory, match: { group: web }, max_rss: 5MB, action: stop }
        - { name: third, kind: runtime, match: { program: "*" }, max_runtime: 10s, action: { signal: HUP } }
    `,
    snapshots: [snapshot([program(11, 'web:w1', { rss: 20 * MiB })])],
    actions: [
      [
        'first restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)',
        'second stop web:w1 skipped: pid 11 already gets restart from policy "first" this cycle',
        'third signal HUP web:w1 skipped: pid 11 already gets restart from policy "first" this cycle',
      ],
    ],
  },
  {
    name: 'audit mode plans and reports but skips, and does not take the action from an enforcing policy',
    policies: yaml`
      policies:
        - { name: trial, kind: memory, mode: audit, match: { program: "*" }, max_rss: 1MB }
        - { name: real, kind: memory, match: { program: "*" }, max_rss: 10MB }
    `,
    snapshots: [snapshot([program(11, 'web:w1', { rss: 20 * MiB })])],
    actions: [['trial restart web:w1 skipped: audit mode', 'real restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)']],
  },
  {
    name: 'a stopped program (pid 0) is listed but never acted on',
    policies: 'policies: [{ name: web, kind: memory, match: { program: "*" }, max_rss: 0 }]',
    snapshots: [snapshot([{ pid: 0, supervisor: { server: 'main', group: 'web', name: 'w1', statename: 'STOPPED', start: 0 } }])],
    actions: [[]],
  },
  {
    name: 'restart and stop need a supervisord program; kill and signals work on any process',
    policies: yaml`
      policies:
        - { name: r, kind: memory, match: { name: java }, max_rss: 1MB }
        - { name: k, kind: memory, match: { name: rsync }, max_rss: 1MB, action: kill, grace: 5s }
        - { name: s, kind: memory, match: { name: nginx }, max_rss: 1MB, action: { signal: USR1 } }
    `,
    snapshots: [snapshot([proc(30, 'java'), proc(31, 'rsync'), proc(32, 'nginx')])],
    actions: [
      [
        'r restart java/30 skipped: restart needs a supervisord program; pid 30 (java) is not run by a configured supervisor',
        'k kill rsync/31 planned: rss 10.0 MiB > 1.0 MiB (cycle 1 of 1)',
        's signal USR1 nginx/32 planned: rss 10.0 MiB > 1.0 MiB (cycle 1 of 1)',
      ],
    ],
  },
  {
    name: 'never pid 1, a kernel thread, procguard itself or its ancestors',
    policies: 'policies: [{ name: all, kind: memory, match: { cmdline: "." }, max_rss: 0, action: kill }]',
    snapshots: [
      snapshot(
        [
          proc(2, 'kthreadd', { ppid: 0, cmdline: 'x' }),
          proc(3, 'kworker/0:1', { ppid: 2, kernel_thread: true, cmdline: 'x' }),
          proc(600, 'bash', { ppid: 1, cmdline: 'bash' }),
          proc(601, 'node', { ppid: 600, cmdline: 'node procguard' }),
          proc(602, 'sleep', { ppid: 600, cmdline: 'sleep 1' }),
        ],
        { self: 601 },
      ),
    ],
    actions: [['all kill sleep/602 planned: rss 10.0 MiB > 0 B (cycle 1 of 1)']],
  },
  {
    name: 'the flapping guard stops acting after max_actions and starts again when the window has passed',
    policies: 'policies: [{ name: web, kind: memory, match: { program: "*" }, max_rss: 10MB, max_actions: { count: 2, within: 1h } }]',
    snapshots: [0, 60, 120, 180, 3600].map((offset) => snapshot([program(11, 'web:w1', { rss: 20 * MiB })], { time: T0 + offset })),
    actions: [
      ['web restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)'],
      ['web restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)'],
      ['web restart web:w1 skipped: flapping guard: 2 restart actions within 1h (max_actions 2)'],
      ['web restart web:w1 skipped: flapping guard: 2 restart actions within 1h (max_actions 2)'],
      ['web restart web:w1 planned: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)'],
    ],
  },
];

const otherCases: Case[] = [
  {
    name: 'oom: sets oom_score_adj only where it differs',
    policies: 'policies: [{ name: ssh, kind: oom, match: { name: sshd }, oom_score_adj: -1000 }]',
    snapshots: [snapshot([proc(40, 'sshd', { oom_score_adj: 0 }), proc(41, 'sshd', { oom_score_adj: -1000 })])],
    actions: [['ssh set_oom_score_adj -1000 sshd/40 planned: oom_score_adj 0, wants -1000']],
  },
  {
    name: 'oom: oom_adj is converted as the kernel does',
    policies: yaml`
      policies:
        - { name: a, kind: oom, match: { name: sshd }, oom_adj: -17 }
        - { name: b, kind: oom, match: { name: named }, oom_adj: -8 }
        - { name: c, kind: oom, match: { name: snmpd }, oom_adj: 15 }
        - { name: d, kind: oom, match: { name: mongod }, oom_adj: 5 }
    `,
    snapshots: [snapshot([proc(40, 'sshd', { oom_score_adj: 0 }), proc(41, 'named', { oom_score_adj: 0 }), proc(42, 'snmpd', { oom_score_adj: 0 }), proc(43, 'mongod', { oom_score_adj: 294 })])],
    actions: [
      [
        'a set_oom_score_adj -1000 sshd/40 planned: oom_score_adj 0, wants -1000',
        'b set_oom_score_adj -470 named/41 planned: oom_score_adj 0, wants -470',
        'c set_oom_score_adj 1000 snmpd/42 planned: oom_score_adj 0, wants 1000',
      ],
    ],
  },
  {
    name: 'oom: two policies disagreeing on one process: the first in file order wins',
    policies: yaml`
      policies:
        - { name: first, kind: oom, match: { name: sshd }, oom_score_adj: -1000 }
        - { name: second, kind: oom, match: { user: root }, oom_score_adj: 500 }
    `,
    snapshots: [snapshot([proc(40, 'sshd', { oom_score_adj: 0, user: 'root', uid: 0 }), proc(41, 'cron', { oom_score_adj: 0, user: 'root', uid: 0 })])],
    actions: [['first set_oom_score_adj -1000 sshd/40 planned: oom_score_adj 0, wants -1000', 'second set_oom_score_adj 500 cron/41 planned: oom_score_adj 0, wants 500']],
  },
  {
    name: 'oom: audit mode skips',
    policies: 'policies: [{ name: ssh, kind: oom, mode: audit, match: { name: sshd }, oom_score_adj: -1000 }]',
    snapshots: [snapshot([proc(40, 'sshd', { oom_score_adj: 0 })])],
    actions: [['ssh set_oom_score_adj -1000 sshd/40 skipped: audit mode']],
  },
  {
    name: 'runtime: uptime over max_runtime acts; equal does not',
    policies: 'policies: [{ name: batch, kind: runtime, match: { group: batch }, max_runtime: 100s }]',
    snapshots: [
      snapshot([
        program(11, 'batch:a', { start_time: T0 - 100, supervisor: { server: 'main', group: 'batch', name: 'a', statename: 'RUNNING', start: T0 - 100 } }),
        program(12, 'batch:b', { start_time: T0 - 101, supervisor: { server: 'main', group: 'batch', name: 'b', statename: 'RUNNING', start: T0 - 101 } }),
      ]),
    ],
    actions: [['batch restart batch:b planned: uptime 1m41s > max_runtime 1m40s']],
  },
  {
    name: "runtime: uptime is the process' own (start_time), never supervisord's start field",
    policies: 'policies: [{ name: batch, kind: runtime, match: { group: batch }, max_runtime: 100s }]',
    snapshots: [
      snapshot([
        program(11, 'batch:a', { start_time: T0 - 10, supervisor: { server: 'main', group: 'batch', name: 'a', statename: 'RUNNING', start: T0 - 100000 } }),
        program(12, 'batch:b', { start_time: T0 - 101, supervisor: { server: 'main', group: 'batch', name: 'b', statename: 'RUNNING', start: T0 } }),
      ]),
    ],
    actions: [['batch restart batch:b planned: uptime 1m41s > max_runtime 1m40s']],
  },
  {
    name: "a remote supervisor's program (pid 0, remote) is never measured or acted on, whatever local pid it once named",
    policies: 'policies: [{ name: web, kind: memory, match: { program: "web:*" }, max_rss: 1, action: kill }, { name: web-oom, kind: oom, match: { program: "web:*" }, oom_score_adj: 1000 }]',
    snapshots: [snapshot([proc(11, 'sleep'), { pid: 0, supervisor: { server: 'far', group: 'web', name: 'w0', statename: 'RUNNING', start: T0 - 100, remote: true } }])],
    actions: [[]],
  },
];

const loadPolicy = 'policies: [{ name: backoff, kind: load, match: { cmdline: "^rsync " }, pause_above: 4.0, resume_below: 2.0 }]';
const rsyncTree = [proc(70, 'rsync', { cmdline: 'rsync -a /src /dst' }), proc(71, 'rsync', { ppid: 70, cmdline: 'rsync --server' }), proc(72, 'ssh', { ppid: 70, cmdline: 'ssh backup' })];
const atLoad = (load: number, processes = rsyncTree, average: 0 | 1 = 0): Snapshot => snapshot(processes, { load: average === 0 ? [load, 0, 0] : [0, load, 0] });

const loadCases: Case[] = [
  {
    name: 'load: pauses the whole matched tree above pause_above, holds it in the band, resumes at resume_below',
    policies: loadPolicy,
    snapshots: [atLoad(4.0), atLoad(4.5), atLoad(3.0), atLoad(2.0), atLoad(3.0)],
    actions: [[], ['backoff pause rsync/70 planned: load 4.50 (1m) > 4'], [], ['backoff resume rsync/70 planned: load 2.00 (1m) ≤ 2'], []],
  },
  {
    name: 'load: average 5m reads the 5-minute value',
    policies: 'policies: [{ name: backoff, kind: load, match: { name: rsync }, pause_above: 4.0, average: 5m }]',
    snapshots: [atLoad(9, rsyncTree, 0), atLoad(5, rsyncTree, 1)],
    actions: [[], ['backoff pause rsync/70 planned: load 5.00 (5m) > 4']],
  },
  {
    name: 'load: max_pause resumes, and no new pause comes until the load has fallen to resume_below',
    policies: 'policies: [{ name: backoff, kind: load, match: { name: rsync }, pause_above: 4.0, max_pause: 90s }]',
    snapshots: [atLoad(5), atLoad(5), atLoad(5), atLoad(5), atLoad(1), atLoad(5)],
    actions: [
      ['backoff pause rsync/70 planned: load 5.00 (1m) > 4'],
      [],
      ['backoff resume rsync/70 planned: paused for 2m, max_pause 1m30s'],
      [],
      [],
      ['backoff pause rsync/70 planned: load 5.00 (1m) > 4'],
    ],
  },
  {
    name: 'load: a paused pid now used by another process is never resumed',
    policies: loadPolicy,
    snapshots: [atLoad(5), atLoad(1, [proc(70, 'rsync', { cmdline: 'rsync -a /src /dst' }), proc(71, 'postgres', { ppid: 1, start_time: T0 + 30 })])],
    actions: [['backoff pause rsync/70 planned: load 5.00 (1m) > 4'], ['backoff resume rsync/70 planned: load 1.00 (1m) ≤ 2']],
  },
  {
    name: 'load: a process paused by one policy is never paused by another, and only its owner resumes it',
    policies: yaml`
      policies:
        - { name: first, kind: load, match: { name: rsync }, pause_above: 4.0, resume_below: 1.0 }
        - { name: second, kind: load, match: { cmdline: "^rsync " }, pause_above: 3.0, resume_below: 2.0, average: 5m }
    `,
    snapshots: [snapshot(rsyncTree, { load: [5, 5, 0] }), snapshot(rsyncTree, { load: [3, 1, 0] }), snapshot(rsyncTree, { load: [0.5, 1, 0] })],
    actions: [['first pause rsync/70 planned: load 5.00 (1m) > 4'], [], ['first resume rsync/70 planned: load 0.50 (1m) ≤ 1']],
  },
  {
    name: 'load: a tree paused by a policy that is no longer configured is resumed',
    policies: 'policies: [{ name: other, kind: oom, match: { name: nothing }, oom_score_adj: 0 }]',
    state: { version: 1, targets: {}, paused: [{ policy: 'gone', root: { pid: 70, start_time: T0 - 100, name: 'rsync' }, processes: [{ pid: 70, start_time: T0 - 100 }], since: T0 - 60 }] },
    snapshots: [atLoad(9)],
    actions: [['gone resume rsync/70 planned: policy "gone" is no longer configured']],
  },
  ...[
    ['runtime', '{ name: backoff, kind: runtime, match: { name: rsync }, max_runtime: 6h, action: kill }'],
    ['memory', '{ name: backoff, kind: memory, match: { name: rsync }, max_rss: 1GB, action: kill }'],
    ['oom', '{ name: backoff, kind: oom, match: { name: nothing }, oom_score_adj: 0 }'],
  ].map(([kind, policy]) => ({
    name: `load: a tree paused by a policy whose name is now kind ${kind} is resumed`,
    policies: `policies: [${policy}]`,
    state: {
      version: 1 as const,
      targets: {},
      paused: [{ policy: 'backoff', root: { pid: 70, start_time: T0 - 100, name: 'rsync' }, processes: [{ pid: 70, start_time: T0 - 100 }], since: T0 - 60 }],
    },
    snapshots: [atLoad(9)],
    actions: [[`backoff resume rsync/70 planned: policy "backoff" is no longer a load policy (now kind ${kind})`]],
  })),
];

describe('engine: evaluate', () => {
  for (const c of [...memoryCases, ...otherCases, ...loadCases]) {
    it(c.name, () => {
      const results = cycles(policySetOf(c.policies), c.snapshots, c.state);
      assert.deepEqual(
        results.map((r) => actionLines(r.plan)),
        c.actions,
      );
    });
  }

  it('a paused tree names every process with its start time, and state remembers them', () => {
    const [, paused] = cycles(policySetOf(loadPolicy), [atLoad(1), atLoad(5)]);
    assert.deepEqual(paused!.plan.actions[0]!.processes, [
      { pid: 70, start_time: T0 - 100 },
      { pid: 71, start_time: T0 - 100 },
      { pid: 72, start_time: T0 - 100 },
    ]);
    assert.deepEqual(paused!.state.paused, [{ policy: 'backoff', root: { pid: 70, start_time: T0 - 100, name: 'rsync' }, processes: paused!.plan.actions[0]!.processes, since: T0 + 60 }]);
  });

  it('resuming leaves out a pid that was reused, with a warning', () => {
    const [, resumed] = cycles(policySetOf(loadPolicy), [atLoad(5), atLoad(1, [proc(70, 'rsync', { cmdline: 'rsync -a /src /dst' }), proc(71, 'postgres', { ppid: 1, start_time: T0 + 30 })])]);
    assert.deepEqual(resumed!.plan.actions[0]!.processes, [{ pid: 70, start_time: T0 - 100 }]);
    assert.deepEqual(resumed!.plan.warnings, ['pid 71 paused by "backoff" now belongs to another process (postgres); it is not resumed']);
    assert.deepEqual(resumed!.state.paused, []);
  });

  it('oom disagreement is a warning in the plan', () => {
    const set = policySetOf(yaml`
      policies:
        - { name: first, kind: oom, match: { name: sshd }, oom_score_adj: -1000 }
        - { name: second, kind: oom, match: { user: root }, oom_score_adj: 500 }
    `);
    const { plan } = evaluate(set, snapshot([proc(40, 'sshd', { oom_score_adj: 0, user: 'root', uid: 0 })]), emptyState(), T0);
    assert.deepEqual(plan.warnings, ['sshd (pid 40): policies "first" (oom_score_adj -1000) and "second" (500) disagree; "first" wins as the first in file order']);
  });

  it("a policy whose program matches a remote supervisor's program says in the plan that it is not measured there", () => {
    const set = policySetOf('policies: [{ name: web, kind: memory, match: { program: "web:*" }, max_rss: 1MB }, { name: other, kind: memory, match: { program: "db:*" }, max_rss: 1MB }]');
    const { plan, observations } = evaluate(set, snapshot([{ pid: 0, supervisor: { server: 'far', group: 'web', name: 'w0', statename: 'RUNNING', start: T0, remote: true } }]), emptyState(), T0);
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(observations, []);
    assert.deepEqual(plan.warnings, ['web:w0 of remote supervisor "far" is not measured or acted on by policy "web": it runs on another host, so there is no rss, start time or pid for it here']);
  });

  it('collector errors are carried into the plan', () => {
    const set = policySetOf('policies: [{ name: web, kind: memory, match: { program: "*" }, max_rss: 10MB }]');
    const { plan } = evaluate(set, snapshot([], { errors: [{ source: 'supervisor:main', message: 'cannot reach' }] }), emptyState(), T0);
    assert.deepEqual(plan.errors, [{ source: 'supervisor:main', message: 'cannot reach' }]);
  });

  it('a process table that could not be read: paused trees are kept, never forgotten while stopped', () => {
    const set = policySetOf(loadPolicy);
    const paused: EngineState['paused'] = [
      { policy: 'backoff', root: { pid: 70, start_time: T0 - 100, name: 'rsync' }, processes: [{ pid: 70, start_time: T0 - 100 }], since: T0 - 60 },
      { policy: 'removed', root: { pid: 80, start_time: T0 - 100, name: 'tar' }, processes: [{ pid: 80, start_time: T0 - 100 }], since: T0 - 60 },
    ];
    for (const source of ['procfs', 'ps']) {
      const blind = snapshot([], { load: [0.1, 0.1, 0.1], errors: [{ source, message: 'EACCES' }] });
      blind.processes = [];
      const { plan, state } = evaluate(set, blind, { version: 1, targets: {}, paused }, T0);
      assert.deepEqual(plan.actions, []);
      assert.deepEqual(state.paused, paused);
      assert.deepEqual(plan.warnings, ['the process table could not be read: paused processes stay paused and remembered until it can']);
    }
  });

  it('never changes the state it was given', () => {
    const set = policySetOf('policies: [{ name: web, kind: memory, match: { program: "*" }, max_rss: 10MB, for: 3 }]');
    const before: EngineState = { version: 1, targets: { web: { 'supervisor:main:web:w1': { over: 1 } } }, paused: [] };
    const copy = structuredClone(before);
    const { state } = evaluate(set, snapshot([program(11, 'web:w1', { rss: 20 * MiB })]), before, T0);
    assert.deepEqual(before, copy);
    assert.deepEqual(state.targets, { web: { 'supervisor:main:web:w1': { over: 2 } } });
  });

  it('a base name of argv[0] longer than any file name is no name: it is neither matched nor a lookup key', () => {
    const set = policySetOf('policies: [{ name: protect, kind: oom, match: { name: sshd }, oom_score_adj: -100 }]');
    // What a user crafted: comm cut at 15 characters, argv[0] 64 KiB long and different in each process.
    const crafted = Array.from({ length: 200 }, (_, i) => proc(2000 + i, 'procguard-long-', { cmdline: `${'A'.repeat(65528)}${String(i).padStart(8, '0')} 3600` }));
    const fine = proc(40, 'a-very-long-nam', { cmdline: '/opt/bin/a-very-long-name-indeed --x' });
    const host = indexSnapshot(snapshot([...crafted, fine]));
    const lookup = processLookup(host);
    assert.ok(
      [...lookup.byName.keys()].every((key) => key.length <= 255),
      'no key longer than NAME_MAX',
    );
    assert.deepEqual(
      lookup.byName.get('a-very-long-name-indeed')?.map((p) => p.pid),
      [40],
    );
    assert.equal(evaluate(set, snapshot([...crafted, fine]), emptyState(), T0).plan.actions.length, 0);
  });

  it('a state of an earlier release (whole-second start times): a paused process that started in that second is resumed, another is not', () => {
    const set = policySetOf(loadPolicy);
    const started = T0 - 100 + 0.37;
    const legacy: EngineState = {
      version: 1,
      targets: {},
      paused: [
        { policy: 'backoff', root: { pid: 70, start_time: T0 - 100, name: 'rsync' }, processes: [{ pid: 70, start_time: T0 - 100 }], since: T0 - 60 },
        { policy: 'backoff', root: { pid: 80, start_time: T0 - 100, name: 'rsync' }, processes: [{ pid: 80, start_time: T0 - 100 }], since: T0 - 60 },
      ],
    };
    const low = snapshot([proc(70, 'rsync', { cmdline: 'rsync -a', start_time: started }), proc(80, 'rsync', { cmdline: 'rsync -a', start_time: T0 - 50.5 })], { load: [0.1, 0.1, 0.1] });
    const { plan, state } = evaluate(set, low, legacy, T0);
    assert.deepEqual(
      plan.actions.map((a) => [a.action, a.target.pid, a.processes]),
      [['resume', 70, [{ pid: 70, start_time: started }]]],
    );
    assert.equal(state.start_times, 'ticks');
    const exact = evaluate(set, low, { ...legacy, start_times: 'ticks' }, T0);
    assert.deepEqual(exact.plan.actions, [], 'a state exact to the tick is not read by the second');
  });
});
