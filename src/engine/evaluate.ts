// The pure core: evaluate(policies, snapshot, state, now) → { plan, state }. No file,
// socket, child process, clock or environment: the same inputs always give the same plan.
// Each policy's kind (src/policy/kinds) measures and proposes; the shared rules here decide.

import { indexSnapshot, sameStartTime, targetOf, type HostIndex, type LiveProcess } from '../data/host-index.js';
import type { EngineState, Evaluation, Observation, Plan, Snapshot } from '../data/types.js';
import { kindOf, PAUSING_KIND, type KindContext, type PolicyTargets } from '../policy/kinds/index.js';
import { hostIdentity, selectForHost, type HostIdentity } from '../policy/hosts.js';
import type { Policy, PolicySet } from '../policy/model.js';
import { MATCH_LENGTH } from '../policy/pattern.js';
import { Arbiter } from './arbiter.js';
import { indexConditions, unplannedConditions } from './lasting.js';
import { matchProcesses, remoteProgramsMatched } from './match.js';
import { withTickStartTimes } from './start-times.js';
import { missingHostData } from './fields-needed.js';

/** The collectors that read the process table (src/collectors: procfs, ps). */
const PROCESS_TABLE_SOURCES = new Set(['procfs', 'ps']);

export interface EvaluateOptions {
  /** The IANA time zone notification times are written in (the host's, e.g. "Europe/Paris"); UTC by default. */
  timeZone?: string;
  /** The host the snapshot is of, as `hosts:` selectors see it; default: the snapshot's host with its labels from the policy set. */
  host?: HostIdentity;
}

export function evaluate(configured: PolicySet, snapshot: Snapshot, state: EngineState, now: number, options: EvaluateOptions = {}): Evaluation {
  // Policies, notifiers and supervisors that are not for this host take no part at all.
  const { active: policySet, inactive } = selectForHost(configured, options.host ?? hostIdentity(configured, snapshot.host));
  const host = indexSnapshot(snapshot);
  const plan: Plan = { version: 1, time: snapshot.time, host: snapshot.host, actions: [], notifications: [], errors: [...(snapshot.errors ?? []), ...missingHostData(policySet, snapshot)] };
  const warnings: string[] = (snapshot.warnings ?? []).map((w) => w.message);
  const observations: Observation[] = [];
  state = withTickStartTimes(state, (pid) => host.byPid.get(pid)?.start_time);
  const next: EngineState = { version: 1, start_times: 'ticks', targets: {}, paused: [], ...(state.pending?.length ? { pending: state.pending } : {}) };
  const conditions = indexConditions(state.lasting);
  const arbiter = new Arbiter(policySet, host, plan, now, options.timeZone ?? 'UTC', conditions);
  const remote = snapshot.processes.flatMap((p) => (p.supervisor?.remote ? [p.supervisor] : []));
  // Only a policy of a kind that pauses resumes the trees paused under its name; any other kind, like a removed name, never would.
  const pausingPolicies = new Set(policySet.policies.filter((p) => kindOf(p.kind).pauses).map((p) => p.name));
  const pausedByAny = new Set(state.paused.flatMap((tree) => tree.processes.map((p) => p.pid)));
  // Without the process table, a paused process would look gone and be forgotten while still stopped.
  const blind = (snapshot.errors ?? []).some((e) => PROCESS_TABLE_SOURCES.has(e.source));
  if (blind && state.paused.length > 0) {
    warnings.push('the process table could not be read: paused processes stay paused and remembered until it can');
  }

  const perCycle = new Map<string, unknown>();
  for (const policy of policySet.policies) {
    const targets: PolicyTargets = structuredClone(state.targets[policy.name] ?? {});
    const seen = new Set<string>();
    const context: KindContext = {
      matched: matchProcesses(policy.match, host),
      host,
      time: snapshot.time,
      targets,
      seen,
      paused: state.paused.filter((t) => t.policy === policy.name),
      pausedByAny,
      blind,
      perCycle<T>(init: () => T): T {
        if (!perCycle.has(policy.kind)) perCycle.set(policy.kind, init());
        return perCycle.get(policy.kind) as T;
      },
    };
    const result = kindOf(policy.kind).evaluate(policy, context);
    next.paused.push(...(result.paused ?? []));
    observations.push(...result.observations);
    warnings.push(...result.warnings);
    for (const program of remoteProgramsMatched(policy.match, remote)) {
      warnings.push(
        `${program.group}:${program.name} of remote supervisor "${program.server}" is not measured or acted on by policy "${policy.name}": it runs on another host, so there is no rss, start time or pid for it here`,
      );
    }
    for (const proposal of result.proposals) {
      const action = arbiter.decide(proposal, targets);
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

  // A tree paused by a policy that is gone from the configuration, renamed, or no longer of a
  // kind that pauses is resumed, never left stopped.
  for (const tree of state.paused.filter((t) => !pausingPolicies.has(t.policy))) {
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
      kind: PAUSING_KIND,
      action: 'resume',
      mode: 'enforce',
      adapter: 'signal',
      processes: alive,
      target: targetOf(root),
      reason: inactive.policies.includes(tree.policy) ? `policy "${tree.policy}" is not for this host` : orphanReason(policySet, tree.policy),
      status: 'planned',
    });
  }

  // The conditions the plan's actions speak for are settled after they were carried out (settle.ts).
  const { kept, cleared } = unplannedConditions(conditions, plan, observations, policySet, host);
  if (kept.length > 0) next.lasting = kept;
  if (cleared.length > 0) plan.cleared = cleared;

  const cut = cutCommandLineWarning(host);
  if (cut) warnings.push(cut);
  if (warnings.length > 0) plan.warnings = [...new Set(warnings)];
  if (arbiter.held.length > 0) plan.held_notifications = arbiter.held;
  return { plan, state: next, observations, ...(inactive.policies.length > 0 ? { inactive: inactive.policies } : {}) };
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
  return now ? `policy "${name}" is no longer a ${PAUSING_KIND} policy (now kind ${now.kind})` : `policy "${name}" is no longer configured`;
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
      delete entry.cpu;
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
