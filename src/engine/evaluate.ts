// The pure core: evaluate(policies, snapshot, state, now) → { plan, state }. No file,
// socket, child process or clock: the same inputs always give the same plan.

import type { NotifyRule, Policy, PolicySet } from '../policy/model.js';
import { MATCH_LENGTH } from '../policy/pattern.js';
import { formatDuration } from '../shared/units.js';
import { indexSnapshot, sameStartTime, targetKey, targetOf, uptimeOf, type HostIndex, type LiveProcess } from '../data/host-index.js';
import { evaluateLoadPolicy } from './load-pause.js';
import { evaluateMemoryPolicy, evaluateOomPolicy, evaluateRuntimePolicy, type OomClaims } from './limits.js';
import { matchProcesses, remoteProgramsMatched } from './match.js';
import { asctime, renderNotification, type NotificationEvent } from './notify.js';
import { DISRUPTIVE, type KindResult, type PolicyTargets, type Proposal } from './proposal.js';
import { withTickStartTimes } from './start-times.js';
import type { EngineState, Evaluation, FailureNotice, NotificationContext, Observation, Plan, PlannedAction, PlannedNotification, Snapshot, Target } from '../data/types.js';

/** The collectors that read the process table (src/collectors: procfs, ps). */
const PROCESS_TABLE_SOURCES = new Set(['procfs', 'ps']);

export function evaluate(policySet: PolicySet, snapshot: Snapshot, state: EngineState, now: number): Evaluation {
  const host = indexSnapshot(snapshot);
  const plan: Plan = { version: 1, time: snapshot.time, host: snapshot.host, actions: [], notifications: [], errors: [...(snapshot.errors ?? [])] };
  const warnings: string[] = [];
  const observations: Observation[] = [];
  state = withTickStartTimes(state, (pid) => host.byPid.get(pid)?.start_time);
  const next: EngineState = { version: 1, start_times: 'ticks', targets: {}, paused: [], ...(state.pending?.length ? { pending: state.pending } : {}) };
  const cycle = new Cycle(policySet, host, plan, now);
  const oomClaims: OomClaims = new Map();
  const remote = snapshot.processes.flatMap((p) => (p.supervisor?.remote ? [p.supervisor] : []));
  // Only a load policy resumes the trees paused under its name; any other kind, like a removed name, never would.
  const loadPolicies = new Set(policySet.policies.filter((p) => p.kind === 'load').map((p) => p.name));
  const pausedByAny = new Set(state.paused.flatMap((tree) => tree.processes.map((p) => p.pid)));
  // Without the process table, a paused process would look gone and be forgotten while still stopped.
  const blind = (snapshot.errors ?? []).some((e) => PROCESS_TABLE_SOURCES.has(e.source));
  if (blind && state.paused.length > 0) {
    warnings.push('the process table could not be read: paused processes stay paused and remembered until it can');
  }

  for (const policy of policySet.policies) {
    const targets: PolicyTargets = structuredClone(state.targets[policy.name] ?? {});
    const seen = new Set<string>();
    const matched = matchProcesses(policy.match, host);
    let result: KindResult;
    switch (policy.kind) {
      case 'memory':
        result = evaluateMemoryPolicy(policy, matched, host, targets, seen);
        break;
      case 'runtime':
        result = evaluateRuntimePolicy(policy, matched, snapshot.time, seen);
        break;
      case 'oom':
        result = evaluateOomPolicy(policy, matched, oomClaims);
        break;
      case 'load': {
        if (blind) {
          next.paused.push(...state.paused.filter((t) => t.policy === policy.name));
          result = { proposals: [], observations: [], warnings: [] };
          break;
        }
        const outcome = evaluateLoadPolicy(policy, matched, host, state.paused.filter((t) => t.policy === policy.name), pausedByAny, targets, snapshot.time);
        next.paused.push(...outcome.paused);
        for (const p of matched) seen.add(targetKey(p));
        result = outcome;
        break;
      }
    }
    observations.push(...result.observations);
    warnings.push(...result.warnings);
    for (const program of remoteProgramsMatched(policy.match, remote)) {
      warnings.push(`${program.group}:${program.name} of remote supervisor "${program.server}" is not measured or acted on by policy "${policy.name}": it runs on another host, so there is no rss, start time or pid for it here`);
    }
    for (const proposal of result.proposals) {
      const action = cycle.decide(proposal, targets);
      if (proposal.action === 'pause' && action.status === 'planned') {
        for (const p of proposal.processes ?? []) pausedByAny.add(p.pid);
        next.paused.push({
          policy: policy.name,
          root: { pid: proposal.process.pid, start_time: proposal.process.start_time, name: proposal.process.name },
          processes: proposal.processes ?? [],
          since: snapshot.time,
        });
      }
    }
    pruneTargets(targets, seen, policy, now);
    if (Object.keys(targets).length > 0) next.targets[policy.name] = targets;
  }

  // A tree paused by a policy that is gone from the configuration, renamed, or no longer of kind
  // load is resumed, never left stopped.
  for (const tree of state.paused.filter((t) => !loadPolicies.has(t.policy))) {
    if (blind) {
      next.paused.push(tree);
      continue;
    }
    const alive = tree.processes.filter((p) => {
      const live = host.byPid.get(p.pid);
      return live !== undefined && sameStartTime(live.start_time, p.start_time);
    });
    const root = alive[0] && host.byPid.get(alive[0].pid);
    if (!root) continue;
    plan.actions.push({
      policy: tree.policy,
      kind: 'load',
      action: 'resume',
      mode: 'enforce',
      processes: alive,
      target: targetOf(root),
      reason: orphanReason(policySet, tree.policy),
      status: 'planned',
    });
  }

  const cut = cutCommandLineWarning(host);
  if (cut) warnings.push(cut);
  if (warnings.length > 0) plan.warnings = [...new Set(warnings)];
  return { plan, state: next, observations, events: cycle.events, ifFailed: cycle.ifFailed };
}

/** How many cut command lines a warning names; the rest are counted. */
const CUT_LINES_NAMED = 5;

/** Says which command lines `cmdline` patterns saw only the start of, so no match or miss on them surprises. */
function cutCommandLineWarning(host: HostIndex): string | undefined {
  if (host.cutCommandLines.size === 0) return undefined;
  const cut = [...host.cutCommandLines];
  const length = (p: LiveProcess): string => (p.cmdline_truncated ? 'over 64 KiB' : `${p.cmdline!.length.toLocaleString('en')} characters`);
  const named = cut.slice(0, CUT_LINES_NAMED).map((p) => `pid ${p.pid} (${p.name}, ${length(p)})`);
  const more = cut.length > CUT_LINES_NAMED ? ` and ${cut.length - CUT_LINES_NAMED} more` : '';
  return `cmdline patterns saw only the first ${MATCH_LENGTH.toLocaleString('en')} characters of ${cut.length === 1 ? 'a longer command line' : `${cut.length} longer command lines`}: ${named.join(', ')}${more}`;
}

function orphanReason(policySet: PolicySet, name: string): string {
  const now = policySet.policies.find((p) => p.name === name);
  return now ? `policy "${name}" is no longer a load policy (now kind ${now.kind})` : `policy "${name}" is no longer configured`;
}

/** One cycle's shared decisions: audit mode, supervisord-only actions, one disruptive action per process, the flapping guard. */
class Cycle {
  private readonly disrupted = new Map<number, PlannedAction>();
  /** Each notification's action and template fields, to render it again with the action's final status. */
  readonly events = new Map<PlannedNotification, NotificationContext>();
  readonly ifFailed: FailureNotice[] = [];

  constructor(
    private readonly policySet: PolicySet,
    private readonly host: HostIndex,
    private readonly plan: Plan,
    private readonly now: number,
  ) {}

  decide(proposal: Proposal, targets: PolicyTargets): PlannedAction {
    const { policy, process } = proposal;
    const action: PlannedAction = {
      policy: policy.name,
      kind: policy.kind,
      action: proposal.action,
      mode: policy.mode,
      ...(proposal.value !== undefined ? { value: proposal.value } : {}),
      ...(proposal.signal !== undefined ? { signal: proposal.signal } : {}),
      ...(proposal.grace !== undefined ? { grace: proposal.grace } : {}),
      ...(proposal.processes !== undefined ? { processes: proposal.processes } : {}),
      target: targetOf(process),
      reason: proposal.reason,
      status: 'planned',
    };
    this.plan.actions.push(action);
    const entry = proposal.key !== undefined ? (targets[proposal.key] ??= {}) : undefined;
    const maxActions = 'maxActions' in policy ? policy.maxActions : undefined;
    const recent = (entry?.actions ?? []).filter((t) => maxActions !== undefined && this.now - t < maxActions.within);

    const skip = this.skipReason(proposal);
    if (skip !== undefined) {
      skipped(action, skip);
      if (entry) delete entry.over;
      return action;
    }
    if (maxActions && entry && recent.length >= maxActions.count) {
      skipped(action, `flapping guard: ${recent.length} ${proposal.action} actions within ${formatDuration(maxActions.within)} (max_actions ${maxActions.count})`);
      entry.actions = recent;
      if (!entry.guarded) {
        entry.guarded = true;
        this.notify(proposal, action, policy.notify.map((rule) => ({ to: rule.to })));
      }
      return action;
    }

    if (entry) {
      delete entry.over;
      delete entry.guarded;
      if (maxActions) entry.actions = [...recent, this.now];
    }
    if (DISRUPTIVE.has(proposal.action)) this.disrupted.set(process.pid, action);
    this.notify(proposal, action, policy.notify);
    return action;
  }

  private skipReason(proposal: Proposal): string | undefined {
    const { policy, process } = proposal;
    if (proposal.action === 'resume') return undefined;
    if (policy.mode === 'audit') return 'audit mode';
    if ((proposal.action === 'restart' || proposal.action === 'stop') && !process.supervisor) {
      return `${proposal.action} needs a supervisord program; pid ${process.pid} (${process.name}) is not run by a configured supervisor`;
    }
    if (DISRUPTIVE.has(proposal.action)) {
      const earlier = this.disrupted.get(process.pid);
      if (earlier) return `pid ${process.pid} already gets ${earlier.action} from policy "${earlier.policy}" this cycle`;
    }
    return undefined;
  }

  private notify(proposal: Proposal, action: PlannedAction, rules: readonly NotifyRule[]): void {
    const { policy, process } = proposal;
    const uptime = uptimeOf(process, this.host.snapshot.time);
    for (const rule of rules) {
      const notifier = this.policySet.notifiers.find((n) => n.name === rule.to);
      if (!notifier) continue;
      const event = notificationEvent(this.host.snapshot.host, this.policySet, policy, action, proposal, uptime, this.now);
      if (rule.uptimeAtMost !== undefined && uptime > rule.uptimeAtMost) {
        if (action.status === 'planned') this.ifFailed.push({ to: rule.to, action, event });
        continue;
      }
      const message = renderNotification(notifier, event);
      const notification: PlannedNotification = {
        policy: policy.name,
        to: rule.to,
        action: action.action,
        target: action.target,
        subject: message.subject,
        body: message.body,
        status: 'planned',
      };
      this.plan.notifications.push(notification);
      this.events.set(notification, { action, event });
    }
  }
}

function skipped(action: PlannedAction, reason: string): void {
  action.status = 'skipped';
  action.observed = action.reason;
  action.reason = reason;
}

function notificationEvent(snapshotHost: string, policySet: PolicySet, policy: Policy, action: PlannedAction, proposal: Proposal, uptime: number, now: number): NotificationEvent {
  const target: Target = action.target;
  return {
    host: snapshotHost,
    name: policySet.settings.name ?? '',
    policy: policy.name,
    kind: policy.kind,
    mode: policy.mode,
    action: action.action,
    status: action.status,
    reason: action.reason,
    target,
    rss: proposal.rss ?? proposal.process.rss,
    ...(proposal.limit !== undefined ? { limit: proposal.limit } : {}),
    uptime,
    time: asctime(now),
  };
}

/** Forget what no longer matters: counters of targets not seen this cycle, actions outside the guard's window. */
function pruneTargets(targets: PolicyTargets, seen: ReadonlySet<string>, policy: Policy, now: number): void {
  const within = 'maxActions' in policy ? policy.maxActions?.within : undefined;
  for (const [key, entry] of Object.entries(targets)) {
    if (!seen.has(key)) {
      if (key.startsWith('pid:')) {
        delete targets[key];
        continue;
      }
      delete entry.over;
    }
    if (entry.actions) {
      entry.actions = within === undefined ? [] : entry.actions.filter((t) => now - t < within);
      if (entry.actions.length === 0) {
        delete entry.actions;
        delete entry.guarded;
      }
    }
    if (Object.keys(entry).length === 0) delete targets[key];
  }
}
