// Carries out an evaluation: every planned action through its adapter, then every
// notification (rendered again with its action's final status), then the notifications that
// failed on earlier cycles. Returns the plan with final statuses, the state reconciled with
// what really happened, and the audit entries. A dry run never gets here.

import { renderNotification } from '../engine/notify.js';
import type { EngineState, Evaluation, NotificationMessage, PausedTree, PendingNotification, PlannedAction, PlannedNotification } from '../data/types.js';
import type { PolicySet } from '../policy/model.js';
import { formatDuration } from '../shared/units.js';
import type { AuditEntry } from '../state/audit-log.js';
import { adapterFor } from './registry.js';
import { type AdapterDeps, type Outcome, type Work } from './types.js';
import { errorText } from '../shared/errors.js';

/** A failed notification is tried again on later cycles for at most this long… */
export const PENDING_MAX_AGE = 24 * 3600;
/** …and at most this many wait at once; the oldest are dropped first. */
export const PENDING_MAX_COUNT = 100;

export interface Execution {
  /** The evaluation's plan, with final statuses. */
  plan: Evaluation['plan'];
  state: EngineState;
  audit: AuditEntry[];
  /** An action or a notification failed. */
  failed: boolean;
  /** The programs restarted, with the pid each runs as now. */
  restarted: Array<{ action: PlannedAction; pid: number }>;
}

export async function carryOut(evaluation: Evaluation, previous: EngineState, policySet: PolicySet, deps: AdapterDeps): Promise<Execution> {
  const { plan } = evaluation;
  const state: EngineState = structuredClone(evaluation.state);
  const audit: AuditEntry[] = [];
  const now = deps.now();
  const skippedNow = new Set<PlannedAction>();
  const restarted: Execution['restarted'] = [];

  await Promise.all(
    plan.actions
      .filter((action) => action.status === 'planned')
      .map(async (action) => {
        const outcome = await run({ type: 'action', action }, deps);
        applyOutcome(action, outcome);
        if (outcome.status === 'skipped') skippedNow.add(action);
        if (outcome.status === 'done' && outcome.pid !== undefined && action.action === 'restart') restarted.push({ action, pid: outcome.pid });
        reconcilePaused(state, previous, action, outcome);
        audit.push(actionAudit(action, now));
      }),
  );

  // uptime_at_most spares the notifier a routine restart, never a failed one (memmon mails every failure).
  for (const notice of evaluation.ifFailed.filter((n) => n.action.status === 'failed')) {
    const { action } = notice;
    const notification: PlannedNotification = { policy: action.policy, to: notice.to, action: action.action, target: action.target, subject: '', body: '', status: 'planned' };
    plan.notifications.push(notification);
    evaluation.events.set(notification, { action, event: notice.event });
  }

  const pending: PendingNotification[] = [];
  await Promise.all(
    plan.notifications
      .filter((notification) => notification.status === 'planned')
      .map(async (notification) => {
        const context = evaluation.events.get(notification);
        const notifier = policySet.notifiers.find((n) => n.name === notification.to);
        if (context && skippedNow.has(context.action)) {
          notification.status = 'skipped';
          notification.reason = `the ${context.action.action} was not carried out: ${context.action.reason}`;
          audit.push(notificationAudit(notification, now));
          return;
        }
        let event: Record<string, unknown> = {};
        if (context && notifier) {
          const final = { ...context.event, status: context.action.status, reason: context.action.error ? `${context.action.reason}; failed: ${context.action.error}` : context.event.reason };
          Object.assign(notification, renderNotification(notifier, final));
          event = { ...final };
        }
        if (!notifier) {
          notification.status = 'failed';
          notification.error = `notifier "${notification.to}" is not configured`;
        } else {
          const outcome = await run({ type: 'notification', notification, notifier, event }, deps);
          applyNotificationOutcome(notification, outcome);
          if (notification.status === 'failed') {
            pending.push({ notification: messageOf(notification), event, attempts: 1, first_failed: now, last_error: notification.error ?? 'failed' });
          }
        }
        audit.push(notificationAudit(notification, now));
      }),
  );

  const down = new Set(pending.map((p) => p.notification.to));
  const retried = await retryPending(state.pending ?? [], policySet, deps, plan.notifications, audit, down);
  const queue = [...retried, ...pending];
  for (const dropped of queue.splice(0, Math.max(0, queue.length - PENDING_MAX_COUNT))) {
    audit.push({ ...pendingAudit(dropped, now), status: 'dropped', reason: `more than ${PENDING_MAX_COUNT} notifications waiting; the oldest are dropped` });
  }
  if (queue.length > 0) state.pending = queue;
  else delete state.pending;

  const failed = plan.actions.some((a) => a.status === 'failed') || plan.notifications.some((n) => n.status === 'failed');
  return { plan, state, audit, failed, restarted };
}

/**
 * Actions planned once the plan was carried out (the oom policies on a program restarted in this
 * cycle): each through its adapter, then added to the execution's plan and audit entries.
 */
export async function carryOutFollowUps(execution: Execution, actions: readonly PlannedAction[], deps: AdapterDeps): Promise<void> {
  const now = deps.now();
  for (const action of actions) {
    if (action.status === 'planned') applyOutcome(action, await run({ type: 'action', action }, deps));
    execution.plan.actions.push(action);
    execution.audit.push(actionAudit(action, now));
    if (action.status === 'failed') execution.failed = true;
  }
}

async function run(work: Work, deps: AdapterDeps): Promise<Outcome> {
  const adapter = adapterFor(work);
  const what = work.type === 'action' ? work.action.action : `notifier ${work.notifier.name}`;
  if (!adapter) return { status: 'failed', error: `no adapter carries out ${what}` };
  try {
    return await adapter.execute(work, deps);
  } catch (error) {
    return { status: 'failed', error: `${adapter.name} adapter: ${errorText(error)}` };
  }
}

function applyOutcome(action: PlannedAction, outcome: Outcome): void {
  action.status = outcome.status;
  if (outcome.status === 'done' && outcome.detail !== undefined) action.result = outcome.detail;
  if (outcome.status === 'failed') action.error = outcome.error;
  if (outcome.status === 'skipped') {
    action.observed = action.reason;
    action.reason = outcome.reason;
  }
}

function applyNotificationOutcome(notification: PlannedNotification, outcome: Outcome): void {
  notification.status = outcome.status;
  if (outcome.status === 'done' && outcome.detail !== undefined) notification.result = outcome.detail;
  if (outcome.status === 'failed') notification.error = outcome.error;
  if (outcome.status === 'skipped') notification.reason = outcome.reason;
}

/** The state remembers exactly the processes that were stopped, and keeps those a resume could not continue. */
function reconcilePaused(state: EngineState, previous: EngineState, action: PlannedAction, outcome: Outcome): void {
  const sameTree = (tree: PausedTree): boolean => tree.policy === action.policy && tree.root.pid === action.target.pid;
  if (action.action === 'pause') {
    const tree = state.paused.find(sameTree);
    if (!tree) return;
    if (outcome.status !== 'skipped' && outcome.processes && outcome.processes.length > 0) tree.processes = outcome.processes;
    else state.paused.splice(state.paused.indexOf(tree), 1);
  } else if (action.action === 'resume' && outcome.status === 'failed' && outcome.processes && outcome.processes.length > 0) {
    const before = previous.paused.find(sameTree);
    state.paused.push({
      policy: action.policy,
      root: before?.root ?? { pid: action.target.pid, start_time: action.target.start_time ?? 0, name: action.target.name },
      processes: outcome.processes,
      since: before?.since ?? 0,
    });
  }
}

/**
 * Oldest first within each notifier; once a notifier fails in a cycle, its other waiting
 * notifications wait for the next cycle instead of each timing out. Notifiers are tried side by
 * side, so that however many are down the retries take at most one notifier's timeout.
 */
async function retryPending(queue: readonly PendingNotification[], policySet: PolicySet, deps: AdapterDeps, notifications: PlannedNotification[], audit: AuditEntry[], down: Set<string>): Promise<PendingNotification[]> {
  const now = deps.now();
  const outcomes = new Map<PendingNotification, PendingNotification | undefined>();
  const byNotifier = new Map<string, PendingNotification[]>();
  for (const entry of queue) {
    const notifier = policySet.notifiers.find((n) => n.name === entry.notification.to);
    const age = now - entry.first_failed;
    if (!notifier || age > PENDING_MAX_AGE) {
      const reason = notifier ? `undelivered for ${formatDuration(age)} (${entry.attempts} attempts); given up` : `notifier "${entry.notification.to}" is no longer configured`;
      audit.push({ ...pendingAudit(entry, now), status: 'dropped', reason });
      continue;
    }
    outcomes.set(entry, entry);
    const list = byNotifier.get(notifier.name) ?? [];
    list.push(entry);
    byNotifier.set(notifier.name, list);
  }
  await Promise.all(
    [...byNotifier].map(async ([name, entries]) => {
      const notifier = policySet.notifiers.find((n) => n.name === name)!;
      for (const entry of entries) {
        if (down.has(name)) return;
        const attempt = entry.attempts + 1;
        const notification: PlannedNotification = { ...entry.notification, status: 'planned', reason: `retry ${attempt}: first failed ${formatDuration(Math.max(0, now - entry.first_failed))} ago` };
        const outcome = await run({ type: 'notification', notification, notifier, event: entry.event ?? {} }, deps);
        applyNotificationOutcome(notification, outcome);
        notifications.push(notification);
        audit.push(notificationAudit(notification, now));
        if (notification.status === 'failed') {
          outcomes.set(entry, { ...entry, attempts: attempt, last_error: notification.error ?? 'failed' });
          down.add(name);
        } else {
          outcomes.set(entry, undefined);
        }
      }
    }),
  );
  // The queue keeps its order: the oldest first.
  return queue.flatMap((entry) => {
    const kept = outcomes.get(entry);
    return kept ? [kept] : [];
  });
}

function messageOf(notification: PlannedNotification): NotificationMessage {
  const { policy, to, action, target, subject, body } = notification;
  return { policy, to, ...(action !== undefined ? { action } : {}), ...(target !== undefined ? { target } : {}), subject, body };
}

function auditTarget(target: PlannedAction['target']): AuditEntry['target'] {
  return { pid: target.pid, name: target.name, ...(target.namespec !== undefined ? { namespec: target.namespec, supervisor: target.supervisor } : {}) };
}

/** What became of an action or notification, as the audit log records it. */
function outcomeFields(entry: { status: string; reason?: string; error?: string; result?: string }): Pick<AuditEntry, 'status' | 'reason' | 'error' | 'detail'> {
  return {
    status: entry.status as AuditEntry['status'],
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(entry.error !== undefined ? { error: entry.error } : {}),
    ...(entry.result !== undefined ? { detail: entry.result } : {}),
  };
}

function actionAudit(action: PlannedAction, time: number): AuditEntry {
  return { time, type: 'action', policy: action.policy, action: action.action, target: auditTarget(action.target), ...outcomeFields(action) };
}

function notificationAudit(notification: PlannedNotification, time: number): AuditEntry {
  return {
    time,
    type: 'notification',
    policy: notification.policy,
    to: notification.to,
    subject: notification.subject,
    ...(notification.action !== undefined ? { action: notification.action } : {}),
    ...(notification.target !== undefined ? { target: auditTarget(notification.target) } : {}),
    ...outcomeFields(notification),
  };
}

function pendingAudit(entry: PendingNotification, time: number): AuditEntry {
  return { time, type: 'notification', policy: entry.notification.policy, to: entry.notification.to, subject: entry.notification.subject, status: 'dropped', error: entry.last_error };
}
