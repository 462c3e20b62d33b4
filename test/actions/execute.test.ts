// Carrying out a plan: final statuses, notifications rendered again with their action's final
// status, and failed notifications kept in state, retried on later cycles and bounded.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveDeps } from '../../src/actions/deps.js';
import { carryOut, PENDING_MAX_AGE, PENDING_MAX_COUNT } from '../../src/actions/execute.js';
import { dataValidator } from '../helpers/data-validators.js';
import { applyEvaluation } from '../helpers/apply.js';
import type { AdapterDeps } from '../../src/actions/types.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type EngineState, type PendingNotification } from '../../src/data/types.js';
import { yaml } from '../helpers/policy-files.js';
import { killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { policySetOf, proc, snapshot, T0 } from '../helpers/snapshots.js';

describe('carrying out a plan', function () {
  this.timeout(20000);
  let dir: string;
  let child: Child;
  let notifyScript: string;
  let deps: AdapterDeps;
  const logged: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-exec-plan-'));
    child = await spawnChild('sleep', ['320']);
    // Fails while the file "down" exists, else records its stdin.
    notifyScript = join(dir, 'notify.sh');
    await writeFile(notifyScript, `#!/bin/sh\nif [ -e ${dir}/down ]; then echo "pager service down" >&2; exit 1; fi\ncat >> ${dir}/delivered\n`);
    await chmod(notifyScript, 0o755);
    logged.length = 0;
    deps = { ...liveDeps([], {}, (line) => logged.push(line)), now: () => T0 };
  });
  afterEach(async () => {
    killAllChildren();
    await rm(dir, { recursive: true, force: true });
  });

  const policies = (): ReturnType<typeof policySetOf> =>
    policySetOf(yaml`
      notifiers:
        pager: { exec: ["${notifyScript}"] }
      policies:
        - { name: sleeper-oom, kind: oom, match: { name: sleep }, oom_score_adj: 400, notify: [ { to: pager } ] }
    `);
  const hostWithChild = () => snapshot([proc(child.pid, 'sleep', { start_time: child.start_time, oom_score_adj: 0 })]);

  it('marks each action and notification with its final status and result, and audits them', async () => {
    const set = policies();
    const evaluation = evaluate(set, hostWithChild(), emptyState(), T0);
    const execution = await applyEvaluation(evaluation, emptyState(), set, deps);
    assert.equal(execution.failed, false);
    assert.deepEqual(
      execution.plan.actions.map((a) => [a.action, a.status, a.result]),
      [['set_oom_score_adj', 'done', `oom_score_adj of pid ${child.pid}: 0 → 400`]],
    );
    assert.deepEqual(
      execution.plan.notifications.map((n) => [n.to, n.status, n.result]),
      [['pager', 'done', `${notifyScript} exited 0`]],
    );
    const event = JSON.parse(await readFile(join(dir, 'delivered'), 'utf8'));
    assert.deepEqual([event.policy, event.action, event.status, event.target.pid], ['sleeper-oom', 'set_oom_score_adj', 'done', child.pid]);
    assert.deepEqual(
      execution.audit.map((e) => [e.type, e.status]),
      [
        ['action', 'done'],
        ['notification', 'done'],
      ],
    );
  });

  it('the plan is plain data: it survives JSON, is carried out as it is, and is left unchanged', async () => {
    const set = policies();
    const evaluation = evaluate(set, hostWithChild(), emptyState(), T0);
    const plan = JSON.parse(JSON.stringify(evaluation.plan)) as typeof evaluation.plan;
    assert.deepEqual(plan, evaluation.plan, 'nothing in it is lost to JSON');
    assert.ok(dataValidator('plan.schema.json')(plan), 'it is a plan as schemas/plan.schema.json says');
    const before = structuredClone(plan);
    const execution = await carryOut(plan, set, deps);
    assert.deepEqual(plan, before, 'carrying it out changed nothing in it');
    assert.deepEqual(
      execution.plan.actions.map((a) => [a.adapter, a.status]),
      [['oom', 'done']],
    );
    assert.deepEqual(
      execution.outcomes.map((o) => o?.status),
      ['done'],
    );
    assert.ok(dataValidator('plan.schema.json')(execution.plan), 'the plan carried out is a plan too');
  });

  it('a failed action: the notification is rendered again and says FAILED, with the error', async () => {
    const set = policies();
    const brokenProc = join(dir, 'proc');
    await mkdir(join(brokenProc, String(child.pid), 'oom_score_adj'), { recursive: true }); // a directory: the write fails
    const evaluation = evaluate(set, hostWithChild(), emptyState(), T0);
    const execution = await applyEvaluation(evaluation, emptyState(), set, { ...deps, procRoot: brokenProc });
    assert.equal(execution.failed, true);
    const [action] = execution.plan.actions;
    assert.equal(action?.status, 'failed');
    assert.match(action?.error ?? '', /^cannot write .*oom_score_adj: EISDIR/);
    const [notification] = execution.plan.notifications;
    assert.equal(notification?.subject, `procguard: sleeper-oom: set_oom_score_adj sleep (pid ${child.pid}) FAILED on web1 (oom_score_adj 0, wanted 400)`);
    assert.match(
      notification?.body ?? '',
      /^procguard could not set_oom_score_adj sleep \(pid \d+\) on web1, at .*\n\npolicy: {5}sleeper-oom \(oom, enforce\)\n(?:.*\n)*action: {5}set_oom_score_adj, FAILED: cannot write .*oom_score_adj: EISDIR/,
    );
  });

  it('uptime_at_most holds back the notice of a done action, never of a failed one', async () => {
    const set = policySetOf(yaml`
      notifiers:
        pager: { exec: ["${notifyScript}"] }
      policies:
        - { name: sleeper-oom, kind: oom, match: { name: sleep }, oom_score_adj: 400, notify: [ { to: pager, uptime_at_most: 10s } ] }
    `);
    // up 100 s: over the 10 s gate
    const later = (): ReturnType<typeof snapshot> => ({ ...hostWithChild(), time: child.start_time + 100 });
    const planned = evaluate(set, later(), emptyState(), T0);
    assert.deepEqual(planned.plan.notifications, []);
    // Held back in the plan, as data: which notifier, for which action.
    assert.deepEqual(
      planned.plan.held_notifications?.map((n) => [n.to, n.adapter, n.action_index, n.event.status]),
      [['pager', 'exec', 0, 'planned']],
    );
    const done = await applyEvaluation(planned, emptyState(), set, deps);
    assert.deepEqual(done.plan.notifications, []);
    await assert.rejects(readFile(join(dir, 'delivered')), /ENOENT/);

    const brokenProc = join(dir, 'proc');
    await mkdir(join(brokenProc, String(child.pid), 'oom_score_adj'), { recursive: true });
    const failed = await applyEvaluation(evaluate(set, later(), emptyState(), T0), emptyState(), set, { ...deps, procRoot: brokenProc });
    assert.deepEqual(
      failed.plan.notifications.map((n) => [n.to, n.status, n.subject]),
      [['pager', 'done', `procguard: sleeper-oom: set_oom_score_adj sleep (pid ${child.pid}) FAILED on web1 (oom_score_adj 0, wanted 400)`]],
    );
    const event = JSON.parse(await readFile(join(dir, 'delivered'), 'utf8'));
    assert.equal(event.status, 'failed');
  });

  it('an action skipped when carried out (pid reuse): its notification is not sent', async () => {
    const set = policies();
    const reused = snapshot([proc(child.pid, 'sleep', { start_time: child.start_time - 50, oom_score_adj: 0 })]);
    const execution = await applyEvaluation(evaluate(set, reused, emptyState(), T0), emptyState(), set, deps);
    assert.equal(execution.plan.actions[0]?.status, 'skipped');
    assert.equal(execution.plan.notifications[0]?.status, 'skipped');
    assert.match(execution.plan.notifications[0]?.reason ?? '', /^the set_oom_score_adj was not carried out: pid \d+ is now another process/);
    await assert.rejects(readFile(join(dir, 'delivered')), /ENOENT/);
    assert.equal(await readFile(`/proc/${child.pid}/oom_score_adj`, 'utf8'), '0\n');
  });

  it('a failed notification is kept in state and delivered on a later cycle', async () => {
    const set = policies();
    await writeFile(join(dir, 'down'), '');
    const first = await applyEvaluation(evaluate(set, hostWithChild(), emptyState(), T0), emptyState(), set, deps);
    assert.equal(first.failed, true);
    assert.deepEqual(
      first.plan.notifications.map((n) => [n.status, n.error]),
      [['failed', `${notifyScript}: exited with status 1`]],
    );
    assert.equal(first.state.pending?.length, 1);
    assert.deepEqual(first.state.pending?.[0] && { ...first.state.pending[0], notification: undefined, event: undefined }, {
      notification: undefined,
      event: undefined,
      attempts: 1,
      first_failed: T0,
      last_error: `${notifyScript}: exited with status 1`,
    });
    assert.ok(logged.includes(`notifier "pager" (${notifyScript}) said: pager service down`));

    // Still down a minute later: tried again, kept, attempts counted.
    const later = { ...deps, now: () => T0 + 60 };
    const afterOom = snapshot([proc(child.pid, 'sleep', { start_time: child.start_time, oom_score_adj: 400 })], { time: T0 + 60 });
    const second = await applyEvaluation(evaluate(set, afterOom, first.state, T0 + 60), first.state, set, later);
    assert.deepEqual(
      second.plan.notifications.map((n) => [n.status, n.reason]),
      [['failed', 'retry 2: first failed 1m ago']],
    );
    assert.equal(second.state.pending?.[0]?.attempts, 2);
    // The same error again: a repeat, counted, not audited.
    assert.deepEqual(second.plan.notifications[0]?.lasting, { report: 'repeats', since: T0, attempts: 2, error: `${notifyScript}: exited with status 1` });
    assert.deepEqual(
      second.audit.filter((e) => e.type === 'notification'),
      [],
    );

    // Back up, but the backoff waits a cycle (attempts 1, 2, 4, 8 … cycles apart): not tried, still failing.
    await rm(join(dir, 'down'));
    const third = await applyEvaluation(evaluate(set, afterOom, second.state, T0 + 120), second.state, set, { ...deps, now: () => T0 + 120 });
    assert.equal(third.failed, true);
    assert.deepEqual(third.plan.notifications, []);
    assert.deepEqual(
      third.state.pending?.map((p) => [p.attempts, p.skip_cycles]),
      [[2, 0]],
    );

    // Tried again: delivered, saying after how many attempts, and gone from the state.
    const fourth = await applyEvaluation(evaluate(set, afterOom, third.state, T0 + 180), third.state, set, { ...deps, now: () => T0 + 180 });
    assert.equal(fourth.failed, false);
    assert.deepEqual(
      fourth.plan.notifications.map((n) => [n.status, n.reason, n.result?.replace(/^.*; /, '')]),
      [['done', 'retry 3: first failed 3m ago', 'delivered after 3 attempts over 3m']],
    );
    assert.equal(fourth.state.pending, undefined);
    const delivered = JSON.parse(await readFile(join(dir, 'delivered'), 'utf8'));
    assert.equal(delivered.subject, first.plan.notifications[0]?.subject);
  });

  it('gives up on a notification after a day, and keeps at most the newest ' + PENDING_MAX_COUNT, async () => {
    const set = policies();
    const waiting = (n: number, firstFailed: number): PendingNotification => ({
      notification: { policy: 'sleeper-oom', to: 'pager', subject: `message ${n}`, body: '' },
      attempts: 3,
      first_failed: firstFailed,
      last_error: 'exited with status 1',
    });
    await writeFile(join(dir, 'down'), '');
    const old: EngineState = { ...emptyState(), pending: [waiting(0, T0 - PENDING_MAX_AGE - 1), ...Array.from({ length: PENDING_MAX_COUNT + 5 }, (_, i) => waiting(i + 1, T0 - 10))] };
    const quiet = snapshot([]);
    const execution = await applyEvaluation(evaluate(set, quiet, old, T0), old, set, deps);
    const dropped = execution.audit.filter((e) => e.status === 'dropped');
    assert.deepEqual(
      dropped.map((e) => e.subject),
      ['message 0', 'message 1', 'message 2', 'message 3', 'message 4', 'message 5'],
    );
    assert.match(dropped[0]?.reason ?? '', /^undelivered for 1d1s \(3 attempts\); given up$/);
    assert.equal(dropped[1]?.reason, `more than ${PENDING_MAX_COUNT} notifications waiting; the oldest are dropped`);
    assert.equal(execution.state.pending?.length, PENDING_MAX_COUNT);
    assert.equal(execution.state.pending?.[0]?.notification.subject, 'message 6');
    const tried = execution.plan.notifications.filter((n) => n.status === 'failed');
    assert.deepEqual(
      tried.map((n) => n.subject),
      ['message 1'],
      'after one failure the notifier is not tried again this cycle',
    );
    assert.equal(execution.state.pending?.find((p) => p.notification.subject === 'message 7')?.attempts, 3, 'untried ones keep their count');
  });

  it('a notifier removed from the configuration: its waiting notifications are dropped', async () => {
    const set = policySetOf(yaml`
      policies: [ { name: quiet, kind: oom, match: { name: nothing-here }, oom_score_adj: 1 } ]
    `);
    const old: EngineState = { ...emptyState(), pending: [{ notification: { policy: 'gone', to: 'pager', subject: 's', body: 'b' }, attempts: 1, first_failed: T0, last_error: 'x' }] };
    const execution = await applyEvaluation(evaluate(set, snapshot([]), old, T0), old, set, deps);
    assert.deepEqual(
      execution.audit.map((e) => [e.status, e.reason]),
      [['dropped', 'notifier "pager" is no longer configured']],
    );
    assert.equal(execution.state.pending, undefined);
  });
});
