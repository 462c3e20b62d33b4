// Carries out a plan: every planned action through the adapter the plan names, then every
// notification (rendered again with its action's final status), then the notifications held
// back for a failure, then those that failed on earlier cycles. The plan given is not changed:
// what happened comes back as results, and a new plan with the final statuses. A dry run never
// gets here.

import type { ActionOutcome, AuditEntry, Lasting, PendingNotification, Plan, PlannedAction, PlannedNotification, NotificationMessage } from '../data/types.js';
import type { NotifierConfig, PolicySet } from '../policy/model.js';
import { renderNotification } from '../policy/notification-text.js';
import { errorText } from '../shared/errors.js';
import { formatDuration } from '../shared/units.js';
import { clearedText, isRepeat, lastingAfter, RETRY_AT_LEAST_EVERY, skipCyclesAfter, succeededText, timeText } from '../data/lasting.js';
import { ADAPTERS } from './registry.js';
import type { AdapterDeps, AdapterName, Outcome, Work } from './types.js';

/** A failed notification is tried again on later cycles for at most this long… */
export const PENDING_MAX_AGE = 24 * 3600;
/** …and at most this many wait at once; the oldest are dropped first. */
export const PENDING_MAX_COUNT = 100;

export interface Execution {
  /** The plan carried out: a copy with the final statuses. */
  plan: Plan;
  /** What each planned action's adapter reported, by its index in the plan; undefined where nothing was carried out. */
  outcomes: Array<ActionOutcome | undefined>;
  /** The notifications that failed, now and before, waiting for a later cycle, oldest first. */
  pending: PendingNotification[];
  audit: AuditEntry[];
  /** An action or a notification failed. */
  failed: boolean;
  /** The programs restarted, with the pid each runs as now. */
  restarted: Array<{ action: PlannedAction; pid: number }>;
}

export async function carryOut(plan: Plan, policySet: PolicySet, deps: AdapterDeps, waiting: readonly PendingNotification[] = []): Promise<Execution> {
  const now = deps.now();
  const audit: AuditEntry[] = [];
  const outcomes: Array<ActionOutcome | undefined> = plan.actions.map(() => undefined);
  await Promise.all(
    plan.actions.map(async (action, index) => {
      if (action.status !== 'planned') return;
      outcomes[index] = await runAction(action, deps);
    }),
  );
  const actions = plan.actions.map((action, index) => withOutcome(action, outcomes[index], now));
  // A lasting condition is audited when it begins and when it ends, not at every repeat.
  for (const action of actions.filter((a, index) => outcomes[index] !== undefined && !isRepeat(a))) audit.push(actionAudit(action, now));
  // An audit-mode finding is audited when it begins (and when it ends, below).
  for (const action of actions.filter((a) => a.mode === 'audit' && a.status === 'skipped' && a.lasting?.report === 'begins')) {
    audit.push({ ...actionAudit(action, now), ...(action.observed !== undefined ? { reason: `${action.reason} (${action.observed})` } : {}) });
  }
  for (const cleared of plan.cleared ?? []) {
    audit.push({ time: now, type: 'action', policy: cleared.policy, action: cleared.action, target: auditTarget(cleared.target), status: 'cleared', reason: clearedText(cleared) });
  }

  // uptime_at_most spares the notifier a routine restart, never a failed one (memmon mails every failure).
  const owed: PlannedNotification[] = [
    ...plan.notifications,
    ...(plan.held_notifications ?? [])
      .filter((held) => actions[held.action_index]?.status === 'failed' && !isRepeat(actions[held.action_index]!))
      .map((held): PlannedNotification => ({
        policy: held.policy,
        to: held.to,
        adapter: held.adapter,
        action: held.event.action,
        action_index: held.action_index,
        target: held.event.target,
        subject: '',
        body: '',
        event: held.event,
        status: 'planned',
      })),
  ];

  const pending: PendingNotification[] = [];
  const notifications = await Promise.all(
    owed.map(async (planned): Promise<PlannedNotification> => {
      if (planned.status !== 'planned') return planned;
      const action = planned.action_index === undefined ? undefined : actions[planned.action_index];
      const notifier = policySet.notifiers.find((n) => n.name === planned.to);
      let notification: PlannedNotification;
      if (action && outcomes[planned.action_index!]?.status === 'skipped') {
        notification = { ...planned, status: 'skipped', reason: `the ${action.action} was not carried out: ${action.reason}` };
      } else if (action?.lasting && isRepeat(action)) {
        // Told when the failure began; told again when it ends. Alertmanager holds it as a
        // firing alert that ends at a horizon unless renewed: each attempt renews it.
        if (notifier?.type === 'alertmanager' && planned.event) await renewAlert(planned, notifier, action, deps);
        return { ...planned, status: 'skipped', reason: `already reported: failing since ${timeText(action.lasting.since)}, ${action.lasting.attempts} attempts` };
      } else if (!notifier) {
        notification = { ...planned, status: 'failed', error: `notifier "${planned.to}" is not configured` };
      } else {
        const outcome = action?.error ?? action?.result;
        const event =
          planned.event && action
            ? {
                ...planned.event,
                status: action.status,
                reason: action.error ? `${action.reason}; failed: ${action.error}` : planned.event.reason,
                ...(outcome !== undefined ? { result: outcome } : {}),
              }
            : planned.event;
        const rendered = event ? { ...planned, ...renderNotification(notifier, event), event } : planned;
        notification = withNotificationOutcome(rendered, await deliver(rendered, notifier, { ...(event ?? {}) }, deps, action?.lasting));
        if (notification.status === 'failed') {
          pending.push({ notification: messageOf(notification), event: { ...(event ?? {}) }, attempts: 1, first_failed: now, last_error: notification.error ?? 'failed' });
        }
      }
      audit.push(notificationAudit(notification, now));
      return notification;
    }),
  );

  // Alertmanager holds a failure as a firing alert: a condition cleared (the policy, the target or the need went away) resolves it too.
  for (const resolved of await resolveCleared(plan, policySet, deps)) {
    notifications.push(resolved);
    audit.push(notificationAudit(resolved, now));
  }

  const down = new Set(pending.map((p) => p.notification.to));
  const retried = await retryPending(waiting, policySet, deps, down);
  notifications.push(...retried.notifications);
  audit.push(...retried.audit);
  const queue = [...retried.queue, ...pending];
  for (const dropped of queue.splice(0, Math.max(0, queue.length - PENDING_MAX_COUNT))) {
    audit.push({ ...pendingAudit(dropped, now), status: 'dropped', reason: `more than ${PENDING_MAX_COUNT} notifications waiting; the oldest are dropped` });
  }

  // The notices held back for a failure are settled: sent (now among the notifications) or not owed.
  const { held_notifications: _held, ...rest } = plan;
  const final: Plan = { ...rest, actions, notifications };
  // An action waiting out its backoff still fails: the exit status says so until it succeeds.
  const failing = (a: PlannedAction): boolean => a.status === 'failed' || (a.lasting?.error !== undefined && a.lasting.report !== 'ends');
  const failed = actions.some(failing) || notifications.some((n) => n.status === 'failed') || retried.waiting;
  const restarted = actions.flatMap((action, index) => {
    const outcome = outcomes[index];
    return action.action === 'restart' && outcome?.status === 'done' && outcome.pid !== undefined ? [{ action, pid: outcome.pid }] : [];
  });
  return { plan: final, outcomes, pending: queue, audit, failed, restarted };
}

/**
 * Actions planned once the plan was carried out (the oom policies on a program restarted in
 * this cycle): each through its adapter; the execution comes back with them added.
 */
export async function carryOutFollowUps(execution: Execution, followUps: readonly PlannedAction[], deps: AdapterDeps): Promise<Execution> {
  const now = deps.now();
  const actions: PlannedAction[] = [];
  const outcomes: Array<ActionOutcome | undefined> = [];
  for (const action of followUps) {
    const outcome = action.status === 'planned' ? await runAction(action, deps) : undefined;
    actions.push(withOutcome(action, outcome, now));
    outcomes.push(outcome);
  }
  return {
    ...execution,
    plan: { ...execution.plan, actions: [...execution.plan.actions, ...actions] },
    outcomes: [...execution.outcomes, ...outcomes],
    audit: [...execution.audit, ...actions.map((action) => actionAudit(action, now))],
    failed: execution.failed || actions.some((a) => a.status === 'failed'),
  };
}

/** One piece of work through the adapter of that name; a missing adapter or a thrown error is a failed outcome. */
export async function runWork(name: AdapterName | undefined, work: Work, deps: AdapterDeps): Promise<Outcome> {
  const adapter = name === undefined ? undefined : ADAPTERS.get(name);
  const what = work.type === 'action' ? work.action.action : work.type === 'notification' ? `notifier ${work.notifier.name}` : `the restart of ${work.restart.namespec}`;
  if (!adapter) return { status: 'failed', error: `no adapter carries out ${what}` };
  try {
    return await adapter.execute(work, deps);
  } catch (error) {
    return { status: 'failed', error: `${adapter.name} adapter: ${errorText(error, { code: true })}` };
  }
}

function runAction(action: PlannedAction, deps: AdapterDeps): Promise<Outcome> {
  return runWork(action.adapter, { type: 'action', action }, deps);
}

function deliver(notification: NotificationMessage, notifier: NotifierConfig, event: Record<string, unknown>, deps: AdapterDeps, lasting?: Lasting): Promise<Outcome> {
  return runWork(notifier.type, { type: 'notification', notification, notifier, event, ...(lasting ? { lasting } : {}) }, deps);
}

/** The firing alert of a failure that lasts, sent again on an attempt that fails the same way; a failure to renew it is logged. */
async function renewAlert(planned: PlannedNotification, notifier: NotifierConfig, action: PlannedAction, deps: AdapterDeps): Promise<void> {
  const event = { ...planned.event, status: action.status, ...(action.error !== undefined ? { result: action.error } : {}) };
  const outcome = await deliver(planned, notifier, event, deps, action.lasting);
  if (outcome.status === 'failed') deps.log(`notifier "${notifier.name}": renewing the alert of ${action.action} by ${action.policy} failed: ${outcome.error}`);
}

/**
 * A failing condition cleared, as a resolved alert for the alertmanager notifiers of its policy
 * (all of them when the policy is gone). Not retried: an alert left firing ends at its horizon.
 */
async function resolveCleared(plan: Plan, policySet: PolicySet, deps: AdapterDeps): Promise<PlannedNotification[]> {
  const work = (plan.cleared ?? []).filter((c) => c.kind === 'failing');
  if (work.length === 0) return [];
  const alertmanagers = policySet.notifiers.filter((n) => n.type === 'alertmanager');
  return Promise.all(
    work.flatMap((cleared) => {
      const policy = policySet.policies.find((p) => p.name === cleared.policy);
      const rules = policy ? new Set(policy.notify.map((rule) => rule.to)) : undefined;
      return alertmanagers
        .filter((n) => !rules || rules.has(n.name))
        .map(async (notifier): Promise<PlannedNotification> => {
          const reason = clearedText(cleared);
          const message: PlannedNotification = {
            policy: cleared.policy,
            to: notifier.name,
            adapter: notifier.type,
            action: cleared.action,
            target: cleared.target,
            subject: `cleared: ${cleared.action} ${cleared.target.namespec ?? cleared.target.name} by ${cleared.policy}`,
            body: reason,
            status: 'planned',
          };
          const event = { host: plan.host, policy: cleared.policy, kind: policy?.kind ?? '', action: cleared.action, status: 'cleared', reason, target: cleared.target };
          const lasting: Lasting = { report: 'ends', since: cleared.since, attempts: cleared.attempts, ...(cleared.error !== undefined ? { error: cleared.error } : {}) };
          return withNotificationOutcome(message, await deliver(message, notifier, event, deps, lasting));
        });
    }),
  );
}

/** The action as it ended: a copy with its final status, what goes with it, and the lasting condition it begins, repeats or ends. */
function withOutcome(action: PlannedAction, outcome: Outcome | undefined, now: number): PlannedAction {
  if (!outcome) return action;
  const ended = finalOf(action, outcome);
  const { lasting: _before, ...rest } = ended;
  const lasting = lastingAfter(ended, now);
  if (!lasting) return rest;
  if (lasting.report === 'ends') return { ...rest, result: [rest.result, succeededText(lasting, now)].filter(Boolean).join('; '), lasting };
  return { ...rest, lasting };
}

function finalOf(action: PlannedAction, outcome: Outcome): PlannedAction {
  switch (outcome.status) {
    case 'done':
      return { ...action, status: 'done', ...(outcome.detail !== undefined ? { result: outcome.detail } : {}) };
    case 'failed':
      return { ...action, status: 'failed', error: outcome.error };
    case 'skipped':
      return { ...action, status: 'skipped', observed: action.reason, reason: outcome.reason };
  }
}

function withNotificationOutcome(notification: PlannedNotification, outcome: Outcome): PlannedNotification {
  switch (outcome.status) {
    case 'done':
      return { ...notification, status: 'done', ...(outcome.detail !== undefined ? { result: outcome.detail } : {}) };
    case 'failed':
      return { ...notification, status: 'failed', error: outcome.error };
    case 'skipped':
      return { ...notification, status: 'skipped', reason: outcome.reason };
  }
}

/**
 * Oldest first within each notifier; once a notifier fails in a cycle, its other waiting
 * notifications wait for the next cycle instead of each timing out. Each is tried 1, 2, 4, 8 …
 * cycles apart (at least once an hour); a retry failing with the error of the last one is a
 * repeat (not audited or logged), a retry delivered says after how many attempts. Notifiers are tried side by
 * side, so that however many are down the retries take at most one notifier's timeout.
 */
async function retryPending(
  queue: readonly PendingNotification[],
  policySet: PolicySet,
  deps: AdapterDeps,
  down: Set<string>,
): Promise<{ queue: PendingNotification[]; notifications: PlannedNotification[]; audit: AuditEntry[]; waiting: boolean }> {
  const now = deps.now();
  const audit: AuditEntry[] = [];
  const notifications: PlannedNotification[] = [];
  const outcomes = new Map<PendingNotification, PendingNotification | undefined>();
  const byNotifier = new Map<string, PendingNotification[]>();
  let waiting = false;
  for (const entry of queue) {
    const notifier = policySet.notifiers.find((n) => n.name === entry.notification.to);
    const age = now - entry.first_failed;
    if (!notifier || age > PENDING_MAX_AGE) {
      const reason = notifier ? `undelivered for ${formatDuration(age)} (${entry.attempts} attempts); given up` : `notifier "${entry.notification.to}" is no longer configured`;
      audit.push({ ...pendingAudit(entry, now), status: 'dropped', reason });
      continue;
    }
    outcomes.set(entry, entry);
    if ((entry.skip_cycles ?? 0) > 0 && now < (entry.retry_by ?? 0)) {
      outcomes.set(entry, { ...entry, skip_cycles: entry.skip_cycles! - 1 });
      waiting = true;
      continue;
    }
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
        const planned: PlannedNotification = { ...entry.notification, status: 'planned', reason: `retry ${attempt}: first failed ${formatDuration(Math.max(0, now - entry.first_failed))} ago` };
        const delivered = withNotificationOutcome(planned, await deliver(planned, notifier, entry.event ?? {}, deps));
        const notification = withRetryLasting(delivered, entry, attempt, now);
        notifications.push(notification);
        if (!isRepeat(notification)) audit.push(notificationAudit(notification, now));
        if (notification.status === 'failed') {
          const error = notification.error ?? 'failed';
          // Another error starts the count again: it is a new condition.
          const attempts = error === entry.last_error ? attempt : 1;
          outcomes.set(entry, { ...entry, attempts, last_error: error, skip_cycles: skipCyclesAfter(attempts), retry_by: now + RETRY_AT_LEAST_EVERY });
          down.add(name);
        } else {
          outcomes.set(entry, undefined);
        }
      }
    }),
  );
  // The queue keeps its order: the oldest first.
  const kept = queue.flatMap((entry) => {
    const next = outcomes.get(entry);
    return next ? [next] : [];
  });
  return { queue: kept, notifications, audit, waiting };
}

/** A retried notification as a lasting condition: the same error again repeats it, another begins a new one, a delivery ends it. */
function withRetryLasting(notification: PlannedNotification, entry: PendingNotification, attempt: number, now: number): PlannedNotification {
  if (notification.status === 'failed') {
    const error = notification.error ?? 'failed';
    const lasting = error === entry.last_error ? { report: 'repeats' as const, since: entry.first_failed, attempts: attempt, error } : { report: 'begins' as const, since: now, attempts: 1, error };
    return { ...notification, lasting };
  }
  if (notification.status !== 'done') return notification;
  const lasting = { report: 'ends' as const, since: entry.first_failed, attempts: attempt, error: entry.last_error };
  return { ...notification, result: [notification.result, succeededText(lasting, now).replace('succeeded', 'delivered')].filter(Boolean).join('; '), lasting };
}

function messageOf(notification: PlannedNotification): NotificationMessage {
  const { policy, to, action, target, subject, body } = notification;
  return { policy, to, ...(action !== undefined ? { action } : {}), ...(target !== undefined ? { target } : {}), subject, body };
}

function auditTarget(target: PlannedAction['target']): NonNullable<AuditEntry['target']> {
  return { pid: target.pid, name: target.name, ...(target.namespec !== undefined ? { namespec: target.namespec, supervisor: target.supervisor } : {}) };
}

/** What became of an action or notification, as the audit log records it. */
function outcomeFields(entry: { status: string; reason?: string | undefined; error?: string | undefined; result?: string | undefined }): Pick<AuditEntry, 'status' | 'reason' | 'error' | 'detail'> {
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
