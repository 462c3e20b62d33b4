// kind: load — pause the matched process trees with SIGSTOP while the load average is above
// pause_above, hold them in the band, resume at or below resume_below or after max_pause
// (dmon -L/-l). Only processes procguard paused itself (same pid and start time) are ever
// resumed. Its schema: #/definitions/loadPolicy in schemas/policy.schema.json.

import { hasAncestorIn, processTree, sameStartTime, targetKey, targetOf, type HostIndex, type LiveProcess } from '../../data/host-index.js';
import type { PausedTree, ProcessRef } from '../../data/types.js';
import { formatDuration } from '../../shared/units.js';
import type { PolicyBase } from '../base.js';
import { durationAt } from '../unit-values.js';
import type { KindContext, KindResult, PolicyKind, Proposal } from './kind.js';

export interface LoadPolicy extends PolicyBase {
  kind: 'load';
  pauseAbove: number;
  resumeBelow: number;
  average: '1m' | '5m' | '15m';
  /** Seconds, or undefined for no limit. */
  maxPause?: number;
}

const AVERAGES = { '1m': 0, '5m': 1, '15m': 2 } as const;

/** The load average a load policy watches when it leaves out average. */
export const LOAD_DEFAULTS = { average: '1m' } as const;

export const load: PolicyKind<LoadPolicy> = {
  kind: 'load',
  schemaDefinition: 'loadPolicy',
  keyHints: {
    high: 'pause_above',
    low: 'resume_below',
    resume_above: 'resume_below',
  },
  pauses: true,
  normalize(raw, base) {
    const pauseAbove = raw.pause_above as number;
    const maxPause = durationAt(raw, 'max_pause');
    return {
      ...base,
      kind: 'load',
      pauseAbove,
      resumeBelow: (raw.resume_below as number | undefined) ?? pauseAbove / 2,
      average: (raw.average as LoadPolicy['average'] | undefined) ?? LOAD_DEFAULTS.average,
      ...(maxPause !== undefined ? { maxPause } : {}),
    };
  },
  positiveDurations: [['max_pause']],
  check(policy, label, report) {
    const { file, path, value } = policy;
    if (typeof value.pause_above === 'number' && typeof value.resume_below === 'number' && value.resume_below >= value.pause_above) {
      report.add(
        file,
        [...path, 'resume_below'],
        'error',
        'inconsistent',
        `"resume_below" (${value.resume_below}) must be lower than "pause_above" (${value.pause_above}) in ${label}, or the process would be paused and resumed on the same load`,
      );
    }
  },
  describe(policy) {
    const limit = policy.maxPause === undefined ? '' : `, for at most ${formatDuration(policy.maxPause)}`;
    return `pause above load ${policy.pauseAbove} (${policy.average}), resume at ${policy.resumeBelow}${limit}`;
  },
  evaluate: evaluateLoadPolicy,
};

function evaluateLoadPolicy(policy: LoadPolicy, context: KindContext): KindResult {
  const { matched, host, paused: previous, pausedByAny, targets, time } = context;
  // Without the process table, a paused process would look gone: its tree stays as it was.
  if (context.blind) return { proposals: [], observations: [], warnings: [], paused: [...previous] };
  const outcome: KindResult & { paused: PausedTree[] } = { proposals: [], observations: [], warnings: [], paused: [] };
  for (const p of matched) context.seen.add(targetKey(p));
  const load = host.snapshot.load?.[AVERAGES[policy.average]];
  const loadText = load === undefined ? 'load unknown' : `load ${load.toFixed(2)} (${policy.average})`;
  const measure = (limit: number) => (load === undefined ? {} : { measure: { value: load, limit, unit: 'load' as const } });
  for (const tree of previous) {
    const alive = stillPaused(tree, host, outcome.warnings);
    if (alive.length === 0) continue;
    const root = host.byPid.get(alive[0]!.pid)!;
    const pausedFor = time - tree.since;
    let reason: string | undefined;
    // The figure the resume is decided on: the load against resume_below, or the time paused against max_pause.
    let figures: Pick<Proposal, 'measure'> = {};
    if (policy.mode === 'audit') reason = `policy "${policy.name}" is in audit mode now`;
    else if (load !== undefined && load <= policy.resumeBelow) {
      reason = `${loadText} ≤ ${policy.resumeBelow}`;
      figures = measure(policy.resumeBelow);
    } else if (policy.maxPause !== undefined && pausedFor >= policy.maxPause) {
      reason = `paused for ${formatDuration(pausedFor)}, max_pause ${formatDuration(policy.maxPause)}`;
      figures = { measure: { value: pausedFor, limit: policy.maxPause, unit: 'seconds' } };
      (targets[targetKey(root)] ??= {}).released = true;
    }
    if (reason === undefined) {
      outcome.paused.push({ ...tree, processes: alive });
      outcome.observations.push({ policy: policy.name, target: targetOf(root), detail: `held paused: ${loadText}, resumes at ≤ ${policy.resumeBelow}`, verdict: 'hold' });
      continue;
    }
    outcome.proposals.push({ policy, action: 'resume', process: root, reason, processes: alive, ...figures });
  }

  if (load !== undefined && load <= policy.resumeBelow) {
    for (const entry of Object.values(targets)) delete entry.released;
  }

  const matchedPids = new Set(matched.map((p) => p.pid));
  for (const process of matched) {
    const target = targetOf(process);
    if (pausedByAny.has(process.pid)) continue;
    // The top of a matched tree is paused with its descendants; a matched descendant goes with it.
    if (hasAncestorIn(host, process, matchedPids)) continue;
    if (load === undefined || load <= policy.pauseAbove) {
      outcome.observations.push({ policy: policy.name, target, detail: `${loadText} ≤ ${policy.pauseAbove}`, verdict: 'ok' });
      continue;
    }
    if (targets[targetKey(process)]?.released) {
      outcome.observations.push({
        policy: policy.name,
        target,
        detail: `${loadText} > ${policy.pauseAbove}, but max_pause released it; paused again once the load falls to ${policy.resumeBelow}`,
        verdict: 'over',
      });
      continue;
    }
    const tree = processTree(host, process).filter((p) => !host.untouchable.has(p.pid) && !pausedByAny.has(p.pid));
    const reason = `${loadText} > ${policy.pauseAbove}`;
    outcome.observations.push({ policy: policy.name, target, detail: reason, verdict: 'act' });
    outcome.proposals.push({ policy, action: 'pause', process, reason, processes: tree.map(ref), ...measure(policy.pauseAbove) });
  }
  return outcome;
}

/** The processes of a paused tree that are still the ones procguard stopped; a reused pid is dropped with a warning. */
function stillPaused(tree: PausedTree, host: HostIndex, warnings: string[]): ProcessRef[] {
  const alive: ProcessRef[] = [];
  for (const paused of tree.processes) {
    const process = host.byPid.get(paused.pid);
    if (!process) continue;
    if (!sameStartTime(process.start_time, paused.start_time)) {
      warnings.push(`pid ${paused.pid} paused by "${tree.policy}" now belongs to another process (${process.name}); it is not resumed`);
      continue;
    }
    alive.push(paused);
  }
  return alive;
}

function ref(process: LiveProcess): ProcessRef {
  return { pid: process.pid, start_time: process.start_time };
}
