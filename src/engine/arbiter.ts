// The rules every kind's proposals go through in one cycle: audit mode, the adapter that will
// carry an action out (decided here, once), one disruptive action per process, the flapping
// guard; then the notifications each decided action owes its policy's notifiers.

import { targetOf, uptimeOf, type HostIndex } from '../data/host-index.js';
import type { HeldNotification, Plan, PlannedAction } from '../data/types.js';
import type { PolicyTargets, Proposal } from '../policy/kinds/index.js';
import type { NotifyRule, PolicySet } from '../policy/model.js';
import { renderNotification } from '../policy/notification-text.js';
import { formatDuration } from '../shared/units.js';
import { backoffReason, lastingAtPlan, type Conditions } from './lasting.js';
import { asctime, notificationEvent } from './notify.js';
import { actionConditionKey } from '../data/lasting.js';

/** The actions that disrupt a process: at most one of them per process per cycle. */
const DISRUPTIVE: ReadonlySet<PlannedAction['action']> = new Set(['restart', 'stop', 'kill', 'signal']);

type AdapterName = NonNullable<PlannedAction['adapter']>;

export class Arbiter {
  private readonly disrupted = new Map<number, PlannedAction>();
  /** Notifications held back by uptime_at_most, sent only if their action fails. */
  readonly held: HeldNotification[] = [];

  constructor(
    private readonly policySet: PolicySet,
    private readonly host: HostIndex,
    private readonly plan: Plan,
    private readonly now: number,
    private readonly timeZone: string,
    /** The lasting conditions of earlier cycles. */
    private readonly conditions: Conditions = new Map(),
  ) {}

  decide(proposal: Proposal, targets: PolicyTargets): PlannedAction {
    const { policy, process } = proposal;
    const adapter = adapterFor(proposal.action, proposal.process.supervisor !== undefined);
    const action: PlannedAction = {
      policy: policy.name,
      kind: policy.kind as PlannedAction['kind'],
      action: proposal.action,
      mode: policy.mode,
      ...(adapter !== undefined ? { adapter } : {}),
      ...(proposal.value !== undefined ? { value: proposal.value } : {}),
      ...(proposal.signal !== undefined ? { signal: proposal.signal } : {}),
      ...(proposal.grace !== undefined ? { grace: proposal.grace } : {}),
      ...(proposal.processes !== undefined ? { processes: proposal.processes } : {}),
      target: targetOf(process),
      reason: proposal.reason,
      ...(proposal.measure !== undefined ? { measure: proposal.measure } : {}),
      status: 'planned',
    };
    const index = this.plan.actions.push(action) - 1;
    const entry = proposal.key !== undefined ? (targets[proposal.key] ??= {}) : undefined;
    const { maxActions } = proposal;
    const recent = (entry?.actions ?? []).filter((t) => maxActions !== undefined && this.now - t < maxActions.within);

    const record = this.conditions.get(actionConditionKey(action));
    const skip = this.whyNotActing(proposal, adapter);
    if (skip !== undefined) {
      skipped(action, skip);
      withLasting(action, lastingAtPlan(action, record, this.now));
      if (entry) delete entry.over;
      return action;
    }
    // A failing action waits out its backoff: no attempt, no notification, nothing counted by
    // the flapping guard; `for` keeps counting, so the action is still proposed when it is due.
    // A resume never waits: a process procguard stopped is tried again every cycle until it runs.
    const waiting = proposal.action !== 'resume' && record && backoffReason(record, this.now);
    if (waiting) {
      skipped(action, waiting);
      withLasting(action, lastingAtPlan(action, record, this.now));
      return action;
    }
    if (maxActions && entry && recent.length >= maxActions.count) {
      skipped(action, `flapping guard: ${recent.length} ${proposal.action} actions within ${formatDuration(maxActions.within)} (max_actions ${maxActions.count})`);
      entry.actions = recent;
      // The guard holding is itself a lasting condition: reported when it begins (with its one
      // notification), counted while it lasts; the next action carried out is its end.
      withLasting(action, { report: entry.guarded ? 'repeats' : 'begins', since: recent[0] ?? this.now, attempts: recent.length });
      if (!entry.guarded) {
        entry.guarded = true;
        this.notify(
          proposal,
          action,
          index,
          policy.notify.map((rule) => ({ to: rule.to })),
        );
      }
      return action;
    }

    if (entry) {
      delete entry.over;
      delete entry.guarded;
      if (maxActions) entry.actions = [...recent, this.now];
    }
    withLasting(action, lastingAtPlan(action, record, this.now));
    if (DISRUPTIVE.has(proposal.action)) this.disrupted.set(process.pid, action);
    this.notify(proposal, action, index, policy.notify);
    return action;
  }

  private whyNotActing(proposal: Proposal, adapter: AdapterName | undefined): string | undefined {
    const { policy, process } = proposal;
    if (proposal.action === 'resume') return undefined;
    if (policy.mode === 'audit') return 'audit mode';
    if (adapter === undefined) {
      return `${proposal.action} needs a supervisord program; pid ${process.pid} (${process.name}) is not run by a configured supervisor`;
    }
    if (DISRUPTIVE.has(proposal.action)) {
      const earlier = this.disrupted.get(process.pid);
      if (earlier) return `pid ${process.pid} already gets ${earlier.action} from policy "${earlier.policy}" this cycle`;
    }
    return undefined;
  }

  private notify(proposal: Proposal, action: PlannedAction, index: number, rules: readonly NotifyRule[]): void {
    const { policy } = proposal;
    const uptime = uptimeOf(proposal.process, this.host.snapshot.time);
    for (const rule of rules) {
      const notifier = this.policySet.notifiers.find((n) => n.name === rule.to);
      if (!notifier) continue;
      const event = notificationEvent(this.host.snapshot.host, this.policySet, policy, action, proposal.rss ?? proposal.process.rss, proposal.limit, uptime, asctime(this.now, this.timeZone));
      if (rule.uptimeAtMost !== undefined && uptime > rule.uptimeAtMost) {
        if (action.status === 'planned') this.held.push({ policy: policy.name, to: rule.to, adapter: notifier.type, action_index: index, event });
        continue;
      }
      const message = renderNotification(notifier, event);
      this.plan.notifications.push({
        policy: policy.name,
        to: rule.to,
        adapter: notifier.type,
        action: action.action,
        action_index: index,
        target: action.target,
        subject: message.subject,
        body: message.body,
        event,
        status: 'planned',
      });
    }
  }
}

/**
 * Which adapter carries the action out; undefined when none can: a restart or stop needs a
 * supervisord program, a signal goes through supervisord when the process is one of its programs.
 */
export function adapterFor(action: PlannedAction['action'], supervised: boolean): AdapterName | undefined {
  switch (action) {
    case 'restart':
    case 'stop':
      return supervised ? 'supervisor' : undefined;
    case 'signal':
      return supervised ? 'supervisor' : 'signal';
    case 'set_oom_score_adj':
      return 'oom';
    default:
      return 'signal';
  }
}

function withLasting(action: PlannedAction, lasting: PlannedAction['lasting']): void {
  if (lasting) action.lasting = lasting;
}

function skipped(action: PlannedAction, reason: string): void {
  action.status = 'skipped';
  action.observed = action.reason;
  action.reason = reason;
}
