// kind: cpu — act on a process that keeps using more CPU than a share of one core (PM2's
// max CPU restart): each process alone, with its descendants, or a group summed, acting on its
// busiest. A rate needs two readings: the policy keeps each target's last cpu_time per process
// (pid and start time) in the state, and the first cycle that sees a process is measuring.
// Its schema: #/definitions/cpuPolicy in schemas/policy.schema.json.

import { CLOCK_TICKS, processTree, targetKey, targetOf, type LiveProcess } from '../../data/host-index.js';
import type { Snapshot, TargetState } from '../../data/types.js';
import { formatPercent } from '../../shared/units.js';
import type { PolicyBase } from '../base.js';
import { actingFields, actingPower, actionProposal, actionText, checkActing, hostShortness, onlyWhenNeeds, onlyWhenOf, onlyWhenText, type ActingFields, type OnlyWhen } from './acting.js';
import type { KindContext, KindResult, PolicyKind } from './kind.js';

export interface CpuPolicy extends PolicyBase, ActingFields {
  kind: 'cpu';
  /** Percent of one core; acts when the rate is strictly greater. */
  maxCpu: number;
  scope: 'process' | 'tree' | 'group';
  /** Consecutive over-limit cycles before acting. */
  for: number;
  /** Act only while the host is short of memory. */
  onlyWhen?: OnlyWhen;
}

/** What a cpu policy measures when it leaves out scope and for. */
export const CPU_DEFAULTS = { scope: 'process', for: 1 } as const;

type CpuSample = NonNullable<TargetState['cpu']>;

export const cpu: PolicyKind<CpuPolicy> = {
  kind: 'cpu',
  schemaDefinition: 'cpuPolicy',
  keyHints: {
    cpu: 'max_cpu',
    max_cpu_percent: 'max_cpu',
    cpu_limit: 'max_cpu',
    limit: 'max_cpu',
    tree: 'scope: tree',
    children: 'scope: tree',
  },
  normalize(raw, base) {
    return {
      ...base,
      kind: 'cpu',
      maxCpu: percentOf(raw.max_cpu) as number,
      scope: (raw.scope as CpuPolicy['scope'] | undefined) ?? CPU_DEFAULTS.scope,
      for: (raw.for as number | undefined) ?? CPU_DEFAULTS.for,
      ...actingFields(raw),
      ...onlyWhenOf(raw),
    };
  },
  positiveDurations: [['max_actions', 'within']],
  check(policy, label, report) {
    if (percentOf(policy.value.max_cpu) === 0) {
      report.add(policy.file, [...policy.path, 'max_cpu'], 'warning', 'invalid-value', `"max_cpu" is 0% in ${label}: every matched process that uses any CPU between two cycles is acted on`);
    }
    checkActing(policy, label, report);
  },
  power: actingPower,
  hostNeeds: (policy) => onlyWhenNeeds(policy.onlyWhen),
  describe(policy) {
    const scope = policy.scope === 'process' ? 'per process' : policy.scope === 'tree' ? 'per process tree' : 'for the group';
    const cycles = policy.for === 1 ? '' : `, ${policy.for} cycles`;
    const when = policy.onlyWhen ? `, ${onlyWhenText(policy.onlyWhen)}` : '';
    return `max_cpu ${formatPercent(policy.maxCpu)} of a core ${scope}${cycles}${when}, then ${actionText(policy)}`;
  },
  evaluate: evaluateCpuPolicy,
};

/** "80%" → 80; undefined for anything else. */
export function percentOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(value);
  return match ? Number(match[1]) : undefined;
}

/** A process as the policy's state knows it: its pid and its start time in clock ticks, so a reused pid is another process. */
export function cpuIdentity(process: LiveProcess): string {
  return `${process.pid}:${Math.round(process.start_time * CLOCK_TICKS)}`;
}

/** What one target's processes used since the last reading: percent of one core per process read in both, or why there is no rate yet. */
interface Rate {
  /** Percent of one core, summed. */
  total: number;
  /** Each process read in both cycles, with its own rate. */
  members: Array<{ process: LiveProcess; rate: number }>;
}

/**
 * The seconds between the previous reading and this snapshot: on the steady clock when both
 * have it, else on the snapshots' times; undefined when the clock did not move forward.
 */
export function intervalSince(previous: CpuSample, snapshot: Snapshot): number | undefined {
  if (previous.since_boot !== undefined && snapshot.since_boot !== undefined && snapshot.since_boot > previous.since_boot) return snapshot.since_boot - previous.since_boot;
  const seconds = snapshot.time - previous.time;
  return seconds > 0 ? seconds : undefined;
}

/** The rate of `processes` since `previous`; undefined while measuring (no earlier reading of any of them). */
export function rateSince(previous: CpuSample | undefined, processes: readonly LiveProcess[], snapshot: Snapshot): Rate | undefined {
  if (!previous) return undefined;
  const interval = intervalSince(previous, snapshot);
  if (interval === undefined) return undefined;
  const members: Rate['members'] = [];
  for (const process of processes) {
    const before = previous.processes[cpuIdentity(process)];
    if (before === undefined || process.cpu_time === undefined) continue;
    members.push({ process, rate: (Math.max(0, process.cpu_time - before) / interval) * 100 });
  }
  if (members.length === 0) return undefined;
  return { total: members.reduce((sum, m) => sum + m.rate, 0), members };
}

/** This cycle's reading of `processes`, kept for the next one. */
function sampleOf(processes: readonly LiveProcess[], snapshot: Snapshot): CpuSample | undefined {
  const read: CpuSample['processes'] = {};
  let any = false;
  for (const process of processes) {
    if (process.cpu_time === undefined) continue;
    read[cpuIdentity(process)] = process.cpu_time;
    any = true;
  }
  if (!any) return undefined;
  return { time: snapshot.time, ...(snapshot.since_boot !== undefined ? { since_boot: snapshot.since_boot } : {}), processes: read };
}

function evaluateCpuPolicy(policy: CpuPolicy, { matched, host, targets, seen }: KindContext): KindResult {
  const result: KindResult = { proposals: [], observations: [], warnings: [] };
  const snapshot = host.snapshot;
  const limit = formatPercent(policy.maxCpu);
  let measuring = 0;
  let unread = 0;
  // Judged once for the whole policy: the host is short of memory or it is not.
  const shortness = policy.onlyWhen ? hostShortness(policy.onlyWhen, snapshot) : undefined;
  // A policy with no reading at all in its state sees its first cycle (or `check` without a state).
  const firstCycle = Object.values(targets).every((entry) => entry.cpu === undefined);

  const measure = (process: LiveProcess, processes: readonly LiveProcess[], key: string, what: (rate: Rate) => string, subject: string): void => {
    seen.add(key);
    const entry = (targets[key] ??= {});
    const target = targetOf(process);
    const sample = sampleOf(processes, snapshot);
    const rate = rateSince(entry.cpu, processes, snapshot);
    if (sample) entry.cpu = sample;
    else delete entry.cpu;
    if (!sample) {
      unread += 1;
      delete entry.over;
      result.observations.push({ policy: policy.name, target, detail: `${subject}: cpu time unknown (the snapshot has no cpu_time)`, verdict: 'ok' });
      return;
    }
    if (!rate) {
      measuring += 1;
      delete entry.over;
      result.observations.push({ policy: policy.name, target, detail: `${subject}: measuring (first cycle that sees it; the rate needs two)`, verdict: 'ok' });
      return;
    }
    const measured = { value: rate.total, limit: policy.maxCpu, unit: 'percent', name: 'cpu' } as const;
    if (rate.total <= policy.maxCpu) {
      delete entry.over;
      result.observations.push({ policy: policy.name, target, detail: `${what(rate)} ${formatPercent(rate.total)} ≤ ${limit}`, verdict: 'ok', measure: measured });
      return;
    }
    const cycle = Math.min((entry.over ?? 0) + 1, policy.for);
    const reason = `${what(rate)} ${formatPercent(rate.total)} > ${limit} (cycle ${cycle} of ${policy.for})`;
    entry.over = cycle;
    if (cycle < policy.for) {
      result.observations.push({ policy: policy.name, target, detail: reason, verdict: 'over', measure: measured });
      return;
    }
    // A group acts on its busiest member; a tree or a process on the matched process itself.
    const acted = policy.scope === 'group' ? rate.members.reduce((busy, m) => (m.rate > busy.rate ? m : busy)).process : process;
    if (shortness && !shortness.short) {
      result.observations.push({ policy: policy.name, target: targetOf(acted), detail: `${reason}; held: the host is comfortable (${shortness.text})`, verdict: 'hold', measure: measured });
      return;
    }
    const why = shortness ? `${reason}; ${shortness.text}` : reason;
    result.observations.push({ policy: policy.name, target: targetOf(acted), detail: why, verdict: 'act', measure: measured });
    result.proposals.push({ ...actionProposal(policy), policy, process: acted, reason: why, measure: measured, limit: policy.maxCpu, key });
  };

  if (policy.scope === 'group') {
    if (matched.length > 0) {
      const describeGroup = (rate: Rate): string => {
        const busiest = rate.members.reduce((busy, m) => (m.rate > busy.rate ? m : busy));
        const p = busiest.process;
        const label = p.supervisor ? `${p.supervisor.group}:${p.supervisor.name}` : `${p.name} (pid ${p.pid})`;
        return `group cpu over ${rate.members.length} ${rate.members.length === 1 ? 'process' : 'processes'} (busiest ${label}, ${formatPercent(busiest.rate)})`;
      };
      measure(matched[0]!, matched, 'group', describeGroup, `group of ${matched.length} ${matched.length === 1 ? 'process' : 'processes'}`);
    }
  } else {
    for (const process of matched) {
      if (policy.scope === 'tree') {
        const tree = processTree(host, process);
        measure(process, tree, targetKey(process), (rate) => `tree cpu (${rate.members.length} ${rate.members.length === 1 ? 'process' : 'processes'})`, 'tree');
      } else {
        measure(process, [process], targetKey(process), () => 'cpu', 'cpu');
      }
    }
  }

  if (firstCycle && measuring > 0) {
    const what = measuring === 1 ? '1 target' : `${measuring} targets`;
    result.warnings.push(
      `policy "${policy.name}": measuring ${what}: a CPU rate is the change between two cycles, and this is the first that sees ${measuring === 1 ? 'it' : 'them'} (check alone reads one snapshot: pass --state, or let apply or run keep the last reading in the state directory)`,
    );
  }
  if (unread > 0) {
    result.warnings.push(`policy "${policy.name}": the snapshot gives no cpu_time for ${unread === 1 ? '1 target' : `${unread} targets`}: no CPU rate can be measured`);
  }
  return result;
}
