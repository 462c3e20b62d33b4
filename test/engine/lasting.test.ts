// Lasting conditions as tables: cycle after cycle, the plan the engine makes (a failing action
// waiting out its backoff, an audit finding seen before), what the adapters report, and the
// conditions settle keeps, until they clear.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/engine/evaluate.js';
import { settle } from '../../src/engine/settle.js';
import { isRepeat, lastingAfter, succeededText } from '../../src/data/lasting.js';
import { emptyState, type EngineState, type PlannedAction, type ProcessEntry } from '../../src/data/types.js';
import { MiB, policySetOf, proc, program, snapshot, T0 } from '../helpers/snapshots.js';

const OOM = 'policies: [{ name: oom, kind: oom, match: { name: app, user: root }, oom_score_adj: -500 }]';
const OOM_AUDIT = 'policies: [{ name: oom, kind: oom, mode: audit, match: { name: app, user: root }, oom_score_adj: -500 }]';
const OTHER = 'policies: [{ name: other, kind: oom, match: { name: other }, oom_score_adj: 0 }]';
const GUARDED = 'policies: [{ name: web, kind: memory, match: { program: "web:*" }, max_rss: 10MB, max_actions: { count: 1, within: 1h } }]';
const MEMORY_FOR_2 = 'policies: [{ name: web, kind: memory, match: { program: "web:*" }, max_rss: 10MB, for: 2 }]';
const EACCES = 'EACCES: not permitted to write /proc/40/oom_score_adj';

const app = (adj = 0): ProcessEntry => proc(40, 'app', { oom_score_adj: adj, user: 'root', uid: 0 });
const web = program(11, 'web:w1', { rss: 20 * MiB });

interface Cycle {
  /** Defaults to the case's. */
  policies?: string;
  processes: ProcessEntry[];
  /** What the adapter reports for every action planned this cycle: an error, or done. */
  outcome?: string | 'done';
  /** Seconds since the case's first cycle; 60 × the cycle's index by default. */
  at?: number;
  /** One line per action and per cleared condition. */
  expect: string[];
}

interface Case {
  name: string;
  policies: string;
  cycles: Cycle[];
  /** The conditions kept after the last cycle: "policy action target_key kind attempts skip_cycles". */
  kept?: string[];
}

const since = (seconds: number): string => new Date((T0 + seconds) * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
const failingOom = (n: number): Cycle => ({ processes: [app()], outcome: EACCES, expect: [`oom set_oom_score_adj app/40 failed ${n === 1 ? 'begins' : 'repeats'} ${n}: ${EACCES}`] });
const waitingOom = (when: string, attempts: number): Cycle => ({
  processes: [app()],
  expect: [`oom set_oom_score_adj app/40 skipped repeats ${attempts}: retrying ${when} (failing since ${since(0)}, ${attempts} attempts)`],
});

const cases: Case[] = [
  {
    name: 'a lasting failure is reported once, then tried 1, 2, 4, 8 cycles apart, waiting cycles skipped with when and since',
    policies: OOM,
    cycles: [
      failingOom(1),
      failingOom(2),
      waitingOom('next cycle', 2),
      failingOom(3),
      waitingOom('in 3 cycles', 3),
      waitingOom('in 2 cycles', 3),
      waitingOom('next cycle', 3),
      failingOom(4),
      waitingOom('in 7 cycles', 4),
      waitingOom('in 6 cycles', 4),
      waitingOom('in 5 cycles', 4),
      waitingOom('in 4 cycles', 4),
    ],
    kept: ['oom set_oom_score_adj pid:40:179526650200 failing 4 3'],
  },
  {
    name: 'the flapping guard holding is reported when it begins and only counted while it lasts, and keeps no condition',
    policies: GUARDED,
    cycles: [
      { processes: [web], outcome: 'done', expect: ['web restart web:w1 done -: rss 20.0 MiB > 10.0 MiB (cycle 1 of 1)'] },
      { processes: [web], expect: ['web restart web:w1 skipped begins 1: flapping guard: 1 restart actions within 1h (max_actions 1)'] },
      { processes: [web], expect: ['web restart web:w1 skipped repeats 1: flapping guard: 1 restart actions within 1h (max_actions 1)'] },
      { processes: [web], expect: ['web restart web:w1 skipped repeats 1: flapping guard: 1 restart actions within 1h (max_actions 1)'] },
    ],
    kept: [],
  },
  {
    name: 'it ends when the action succeeds: "succeeded after N attempts over D", and nothing is kept',
    policies: OOM,
    cycles: [
      failingOom(1),
      failingOom(2),
      waitingOom('next cycle', 2),
      { processes: [app()], outcome: 'done', expect: ['oom set_oom_score_adj app/40 done ends 3: succeeded after 3 attempts over 3m'] },
      { processes: [app(-500)], expect: [] },
    ],
    kept: [],
  },
  {
    name: 'another error text is a new condition, reported again',
    policies: OOM,
    cycles: [failingOom(1), { processes: [app()], outcome: 'ENOSPC: no space', expect: ['oom set_oom_score_adj app/40 failed begins 1: ENOSPC: no space'] }],
    kept: ['oom set_oom_score_adj pid:40:179526650200 failing 1 0'],
  },
  {
    name: 'a failing action is tried at least once an hour, whatever the backoff',
    policies: OOM,
    cycles: [
      { ...failingOom(1), at: 0 },
      { ...failingOom(2), at: 600 },
      { ...failingOom(3), at: 600 + 3600 },
      { ...waitingOom('in 3 cycles', 3), at: 600 + 3600 + 60 },
      { ...failingOom(4), at: 600 + 7200 },
    ],
  },
  {
    name: 'it clears when the process is gone',
    policies: OOM,
    cycles: [failingOom(1), { processes: [], expect: [`cleared oom set_oom_score_adj app/40 failing 1: the process is gone`] }],
    kept: [],
  },
  {
    name: 'it clears when its policy is removed',
    policies: OOM,
    cycles: [failingOom(1), failingOom(2), { policies: OTHER, processes: [app()], expect: [`cleared oom set_oom_score_adj app/40 failing 2: policy "oom" is no longer configured`] }],
    kept: [],
  },
  {
    name: 'it clears when it is no longer needed (someone else set the value)',
    policies: OOM,
    cycles: [failingOom(1), { processes: [app(-500)], expect: [`cleared oom set_oom_score_adj app/40 failing 1: no longer needed: oom_score_adj -500 as wanted`] }],
    kept: [],
  },
  {
    name: 'it clears when its policy goes to audit mode, and the audit finding begins',
    policies: OOM,
    cycles: [
      failingOom(1),
      {
        policies: OOM_AUDIT,
        processes: [app()],
        expect: ['oom set_oom_score_adj app/40 skipped begins 1: audit mode', 'cleared oom set_oom_score_adj app/40 failing 1: policy "oom" is now in audit mode'],
      },
    ],
    kept: ['oom set_oom_score_adj pid:40:179526650200 audit 1'],
  },
  {
    name: 'a memory restart failing under for: 2 lasts through the cycles that count again, never cleared in between',
    policies: MEMORY_FOR_2,
    cycles: [
      { processes: [web], expect: [] },
      { processes: [web], outcome: 'SPAWN_ERROR: web:w1', expect: ['web restart web:w1 failed begins 1: SPAWN_ERROR: web:w1'] },
      { processes: [web], expect: [] },
      { processes: [web], outcome: 'SPAWN_ERROR: web:w1', expect: ['web restart web:w1 failed repeats 2: SPAWN_ERROR: web:w1'] },
    ],
    kept: ['web restart supervisor:main:web:w1 failing 2 1'],
  },
  {
    name: 'an audit-mode finding begins, repeats (counted), and ends when the process no longer needs the action',
    policies: OOM_AUDIT,
    cycles: [
      { processes: [app()], expect: ['oom set_oom_score_adj app/40 skipped begins 1: audit mode'] },
      { processes: [app()], expect: ['oom set_oom_score_adj app/40 skipped repeats 2: audit mode'] },
      { processes: [app()], expect: ['oom set_oom_score_adj app/40 skipped repeats 3: audit mode'] },
      { processes: [app(-500)], expect: ['cleared oom set_oom_score_adj app/40 audit 3: no longer needed: oom_score_adj -500 as wanted'] },
    ],
    kept: [],
  },
  {
    name: 'an audit-mode finding ends when its policy starts enforcing',
    policies: OOM_AUDIT,
    cycles: [
      { processes: [app()], expect: ['oom set_oom_score_adj app/40 skipped begins 1: audit mode'] },
      {
        policies: OOM,
        processes: [app()],
        outcome: 'done',
        expect: ['oom set_oom_score_adj app/40 done -: oom_score_adj 0, wants -500', 'cleared oom set_oom_score_adj app/40 audit 1: policy "oom" is no longer in audit mode'],
      },
    ],
    kept: [],
  },
];

/** The action as the adapter left it, as carryOut finishes it (src/actions/execute.ts). */
function finish(action: PlannedAction, outcome: string | undefined, now: number): PlannedAction {
  if (action.status !== 'planned' || outcome === undefined) return action;
  const { lasting: _before, ...rest } = action;
  const ended: PlannedAction = outcome === 'done' ? { ...action, status: 'done' } : { ...action, status: 'failed', error: outcome };
  const lasting = lastingAfter(ended, now);
  return { ...rest, ...(ended.status === 'failed' ? { status: 'failed', error: ended.error! } : { status: 'done' }), ...(lasting ? { lasting } : {}) };
}

function line(a: PlannedAction, now: number): string {
  const who = a.target.namespec ?? `${a.target.name}/${a.target.pid}`;
  const lasting = a.lasting ? `${a.lasting.report} ${a.lasting.attempts}` : '-';
  const text = a.error ?? (a.lasting?.report === 'ends' ? succeededText(a.lasting, now) : a.reason);
  return `${a.policy} ${a.action} ${who} ${a.status} ${lasting}: ${text}`;
}

describe('lasting conditions: reported when they begin and when they end', () => {
  for (const c of cases) {
    it(c.name, () => {
      let state: EngineState = emptyState();
      c.cycles.forEach((cycle, index) => {
        const now = T0 + (cycle.at ?? index * 60);
        const policySet = policySetOf(cycle.policies ?? c.policies);
        const evaluation = evaluate(policySet, snapshot(cycle.processes, { time: now }), state, now);
        const actions = evaluation.plan.actions.map((a) => finish(a, cycle.outcome, now));
        const lines = [
          ...actions.map((a) => line(a, now)),
          ...(evaluation.plan.cleared ?? []).map((x) => `cleared ${x.policy} ${x.action} ${x.target.name}/${x.target.pid} ${x.kind} ${x.attempts}: ${x.reason}`),
        ];
        assert.deepEqual(lines, cycle.expect, `cycle ${index + 1}`);
        const outcomes = actions.map((a) => (a.status === 'failed' ? { status: 'failed' as const, error: a.error! } : a.status === 'done' ? { status: 'done' as const } : undefined));
        state = settle(evaluation.state, state, actions, outcomes, [], now);
      });
      if (c.kept) {
        const kept = (state.lasting ?? []).map((r) => `${r.policy} ${r.action} ${r.target_key} ${r.kind} ${r.attempts}${r.kind === 'failing' ? ` ${r.skip_cycles}` : ''}`);
        assert.deepEqual(kept, c.kept);
      }
    });
  }

  it('a repeat is only counted; a new failure, a success and an audit finding that begins are reported', () => {
    const base: PlannedAction = { policy: 'p', kind: 'oom', action: 'set_oom_score_adj', mode: 'enforce', value: -500, target: { pid: 40, name: 'app' }, reason: 'r', status: 'failed', error: 'E' };
    const table: Array<[PlannedAction, boolean]> = [
      [{ ...base, lasting: lastingAfter(base, T0)! }, false],
      [{ ...base, lasting: lastingAfter({ ...base, lasting: { report: 'repeats', since: T0, attempts: 1, error: 'E' } }, T0)! }, true],
      [{ ...base, status: 'done', lasting: lastingAfter({ ...base, status: 'done', lasting: { report: 'repeats', since: T0, attempts: 1, error: 'E' } }, T0)! }, false],
      [{ ...base, status: 'skipped', mode: 'audit', lasting: { report: 'begins', since: T0, attempts: 1 } }, false],
    ];
    assert.deepEqual(
      table.map(([action]) => isRepeat(action)),
      table.map(([, repeat]) => repeat),
    );
  });

  it('a failing resume never waits out a backoff: a process procguard stopped is tried again every cycle', () => {
    const policySet = policySetOf('policies: [{ name: backoff, kind: load, match: { name: batch }, pause_above: 4, resume_below: 2 }]');
    const batch = proc(60, 'batch', { state: 'T' });
    let state: EngineState = {
      ...emptyState(),
      paused: [{ policy: 'backoff', root: { pid: 60, start_time: batch.start_time!, name: 'batch' }, processes: [{ pid: 60, start_time: batch.start_time! }], since: T0 - 600 }],
    };
    const seen: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const now = T0 + i * 60;
      const evaluation = evaluate(policySet, snapshot([batch], { time: now, load: [0.5, 0.5, 0.5] }), state, now);
      const actions = evaluation.plan.actions.map((a) => finish(a, 'EPERM: not permitted to send SIGCONT to pid 60', now));
      seen.push(actions.map((a) => `${a.action} ${a.status}`).join(', '));
      const outcomes = actions.map((a) => (a.status === 'failed' ? { status: 'failed' as const, error: a.error!, processes: a.processes ?? [] } : undefined));
      state = settle(evaluation.state, state, actions, outcomes, [], now);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 6 }, () => 'resume failed'),
    );
    assert.equal(state.paused.length, 1, 'the tree is still remembered as stopped');
  });
});
