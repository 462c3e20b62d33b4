// What the long-running modes share: a reload swaps the set whole and resets only the
// counters of the policies it changed; a broken reload keeps the set in force; the log says
// each action once and each lasting condition when it begins and when it ends.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Execution } from '../../src/actions/execute.js';
import type { Plan } from '../../src/data/types.js';
import { loadConfig } from '../../src/modes/config.js';
import { memoryStore } from '../../src/modes/cycle.js';
import { collectorAfterGrowth, COLLECT_AFTER_GROWTH, CycleReporter, Service } from '../../src/modes/service.js';
import { killAllChildren, spawnChild } from '../helpers/processes.js';

describe('Service: reloads and counters', function () {
  this.timeout(20000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-service-'));
  });
  afterEach(async () => {
    killAllChildren();
    await rm(dir, { recursive: true, force: true });
  });

  /** Two audit policies that count a real child over a 1KB limit for three cycles before they would act. */
  const policies = (secondLimit: string): string => `policies:
  - { name: first, kind: memory, mode: audit, match: { name: sleep, cmdline: "^sleep 321$" }, max_rss: 1KB, for: 3, action: kill }
  - { name: second, kind: memory, mode: audit, match: { name: sleep, cmdline: "^sleep 321$" }, max_rss: ${secondLimit}, for: 3, action: kill }
`;

  /** A service over one policy file (reloaded from it), with its state in memory and its log kept. */
  async function serviceFor(text: string): Promise<{ file: string; logs: string[]; service: Service }> {
    const file = join(dir, 'policies.yaml');
    await writeFile(file, text);
    const { config } = await loadConfig([file]);
    assert.ok(config);
    const logs: string[] = [];
    return { file, logs, service: new Service({ env: {}, log: (line) => logs.push(line), config, store: memoryStore(), reloadFrom: [file] }) };
  }

  it('a changed policy starts counting afresh, an unchanged one keeps its count; a broken file changes nothing', async () => {
    await spawnChild('sleep', ['321']);
    const { file, logs, service } = await serviceFor(policies('1KB'));
    await service.cycle();
    await service.cycle();
    assert.equal(logs.length, 0, logs.join('\n'));

    await writeFile(file, policies('1KB\n  - { name: broken'));
    await service.reload('test');
    assert.ok(logs.includes('test: the new configuration is invalid; the last good one stays in force (2 policies)'), logs.join('\n'));
    assert.ok(logs.some((line) => new RegExp(`^${file}:\\d+:\\d+: error: `).test(line)));

    await writeFile(file, policies('2KB'));
    await service.reload('test');
    assert.ok(logs.includes('test: reloaded; 2 policies in force; changed (cycle counts start afresh, actions taken still count): second'));
    logs.length = 0;
    await service.cycle();
    // first: cycle 3 of 3, so it would act (audit mode: skipped); second: cycle 1 of 3 again.
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0] ?? '', /^kill sleep \(pid \d+\) by first: skipped: audit mode \(rss [\d.]+ MiB > 1\.0 KiB \(cycle 3 of 3\)\)$/);
  });

  it('calls its garbage collector after every cycle, once the cycle is reported', async () => {
    const file = join(dir, 'policies.yaml');
    await writeFile(file, policies('1KB'));
    const { config } = await loadConfig([file]);
    assert.ok(config);
    const events: string[] = [];
    const service = new Service({ env: {}, log: () => undefined, config, store: memoryStore(), collectGarbage: () => events.push('collected') });
    service.observers.push({ cycleDone: () => events.push('cycle'), cycleFailed: (message) => events.push(message) });
    for (let i = 0; i < 3; i += 1) await service.cycle();
    assert.deepEqual(events, ['cycle', 'collected', 'cycle', 'collected', 'cycle', 'collected']);
  });

  it("node's collector runs once the heap has grown by 2 MiB since it last ran, measured from what it left", () => {
    const MIB = 1024 * 1024;
    let heap = 8 * MIB;
    const collections: number[] = [];
    const collect = collectorAfterGrowth(
      () => {
        collections.push(heap);
        heap = 7 * MIB;
      },
      () => heap,
    );
    assert.equal(COLLECT_AFTER_GROWTH, 2 * MIB);
    collect(); // the first: what loading the configuration left
    // Each collection leaves 7 MiB; the heap grows from there.
    for (const grown of [7.5, 8.5, 8.99, 9, 8, 8.99, 9.2, 7.1]) {
      heap = grown * MIB;
      collect();
    }
    assert.deepEqual(
      collections.map((at) => at / MIB),
      [8, 9, 9.2],
    );
  });

  it('the flapping guard still counts the actions a policy took after an edit of its limit', async () => {
    // A real child, signalled with CONT (harmless) every cycle it is over the limit, at most twice an hour.
    const child = await spawnChild('sleep', ['1923']);
    const guarded = (limit: string): string => `policies:
  - { name: flappy, kind: memory, match: { name: sleep, cmdline: "^sleep 1923$" }, max_rss: ${limit}, action: { signal: CONT }, max_actions: { count: 2, within: 1h } }
`;
    const { file, logs, service } = await serviceFor(guarded('1KB'));
    await service.cycle();
    await service.cycle();
    const signalled = logs.filter((line) => line.startsWith(`signal CONT sleep (pid ${child.pid}) by flappy: done`));
    assert.equal(signalled.length, 2, logs.join('\n'));

    await writeFile(file, guarded('2KB'));
    await service.reload('test');
    assert.ok(logs.includes('test: reloaded; 1 policy in force; changed (cycle counts start afresh, actions taken still count): flappy'), logs.join('\n'));
    logs.length = 0;
    await service.cycle();
    await service.cycle();
    assert.ok(!logs.some((line) => / by flappy: done/.test(line)), logs.join('\n'));
    assert.ok(
      logs.some((line) => line.includes(`by flappy: skipped: flapping guard: 2 signal actions within 1h (max_actions 2)`)),
      logs.join('\n'),
    );
  });
});

describe('CycleReporter: what the daemon logs', () => {
  const lines: string[] = [];
  const reporter = new CycleReporter((line) => lines.push(line));
  const target = { pid: 42, name: 'python', namespec: 'web:w1', supervisor: 'main' };
  const plan = (fields: Partial<Plan>): { execution: Execution; storeProblems: string[] } => ({
    execution: { plan: { version: 1, time: 0, host: 'web1', actions: [], notifications: [], errors: [], ...fields }, outcomes: [], pending: [], audit: [], failed: false, restarted: [] },
    storeProblems: [],
  });
  const supervisorDown = { source: 'supervisor:main', message: 'connect ENOENT /run/supervisor.sock' };
  const audited = {
    policy: 'web-memory',
    kind: 'memory' as const,
    action: 'restart' as const,
    mode: 'audit' as const,
    target,
    reason: 'audit mode',
    observed: 'rss 2.0 MiB > 1.0 MiB (cycle 1 of 1)',
    status: 'skipped' as const,
  };
  const restarted = { ...audited, observed: undefined, mode: 'enforce' as const, reason: 'rss 2.0 MiB > 1.0 MiB (cycle 1 of 1)', status: 'done' as const, result: 'was pid 42, now pid 43, RUNNING' };

  const steps: Array<{ name: string; cycle: Partial<Plan>; logged: string[] }> = [
    {
      name: 'a collector error and a skipped action: logged when they begin',
      cycle: { errors: [supervisorDown], actions: [audited] },
      logged: ['restart web:w1 (pid 42) by web-memory: skipped: audit mode (rss 2.0 MiB > 1.0 MiB (cycle 1 of 1))', 'error: supervisor:main: connect ENOENT /run/supervisor.sock'],
    },
    { name: 'the same again: nothing new to say', cycle: { errors: [supervisorDown], actions: [audited] }, logged: [] },
    {
      name: 'the error ends; an action done is always logged, with its notification',
      cycle: { actions: [restarted], notifications: [{ policy: 'web-memory', to: 'ops', subject: 'memmon: process web:w1 restarted', body: '', status: 'done' }] },
      logged: [
        'restart web:w1 (pid 42) by web-memory: done: rss 2.0 MiB > 1.0 MiB (cycle 1 of 1) → was pid 42, now pid 43, RUNNING',
        'notify ops for web-memory: done: memmon: process web:w1 restarted',
        'cleared: error: supervisor:main: connect ENOENT /run/supervisor.sock',
      ],
    },
    {
      name: 'a failed action, a failed notification and a warning; a process name with a newline stays on one line',
      cycle: {
        actions: [{ ...restarted, target: { ...target, namespec: undefined, name: 'evil\nname' }, status: 'failed', result: undefined, error: 'SPAWN_ERROR: web:w1' }],
        notifications: [{ policy: 'web-memory', to: 'ops', subject: 'x', body: '', status: 'failed', error: 'sendmail exited 75' }],
        warnings: ['two oom policies want different values for pid 7'],
      },
      logged: [
        'restart evil\\nname (pid 42) by web-memory: failed: rss 2.0 MiB > 1.0 MiB (cycle 1 of 1) → SPAWN_ERROR: web:w1',
        'notify ops for web-memory: failed: x → sendmail exited 75',
        'warning: two oom policies want different values for pid 7',
      ],
    },
    {
      name: 'a failure repeating with the same error, or waiting out its backoff, is not logged again, nor its notification held back',
      cycle: {
        actions: [
          { ...restarted, status: 'failed', result: undefined, error: 'SPAWN_ERROR: web:w1', lasting: { report: 'repeats', since: 0, attempts: 2, error: 'SPAWN_ERROR: web:w1' } },
          { ...audited, reason: 'retrying in 3 cycles (failing since 1970-01-01 00:00:00 UTC, 2 attempts)', lasting: { report: 'repeats', since: 0, attempts: 2, error: 'SPAWN_ERROR: web:w1' } },
          { ...audited, lasting: { report: 'repeats', since: 0, attempts: 5 } },
        ],
        notifications: [{ policy: 'web-memory', to: 'ops', subject: 'x', body: '', status: 'skipped', action_index: 0, reason: 'already reported' }],
      },
      logged: ['cleared: warning: two oom policies want different values for pid 7'],
    },
    {
      name: 'a lasting condition that ended is logged once, with for how long and how often',
      cycle: {
        cleared: [{ policy: 'web-memory', action: 'restart', target, kind: 'failing', since: 0, last_seen: 600, attempts: 4, error: 'SPAWN_ERROR: web:w1', reason: 'the process is gone' }],
      },
      logged: ['cleared: restart web:w1 (pid 42) by web-memory: no longer failing: the process is gone; failed 4 times over 10m since 1970-01-01 00:00:00 UTC (SPAWN_ERROR: web:w1)'],
    },
  ];
  for (const step of steps) {
    it(step.name, () => {
      lines.length = 0;
      reporter.report(plan(step.cycle));
      assert.deepEqual(lines, step.logged);
    });
  }
});
