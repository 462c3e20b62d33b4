// load: pause the matched process trees while the load average is above pause_above, hold
// them in the band, resume at or below resume_below or after max_pause. Only processes
// procguard paused itself (same pid and start time) are ever resumed.

import type { LoadPolicy } from '../policy/model.js';
import { formatDuration } from '../shared/units.js';
import { hasAncestorIn, processTree, sameStartTime, targetKey, targetOf, type HostIndex, type LiveProcess } from '../data/host-index.js';
import type { KindResult, PolicyTargets } from './proposal.js';
import type { PausedTree, ProcessRef } from '../data/types.js';

const AVERAGES = { '1m': 0, '5m': 1, '15m': 2 } as const;

export interface LoadOutcome extends KindResult {
  /** The policy's paused trees after this cycle. */
  paused: PausedTree[];
}

export function evaluateLoadPolicy(
  policy: LoadPolicy,
  matched: LiveProcess[],
  host: HostIndex,
  previous: readonly PausedTree[],
  /** Every pid paused by any policy: one owner per stopped process, so only its owner resumes it. */
  pausedByAny: ReadonlySet<number>,
  targets: PolicyTargets,
  time: number,
): LoadOutcome {
  const outcome: LoadOutcome = { proposals: [], observations: [], warnings: [], paused: [] };
  const load = host.snapshot.load?.[AVERAGES[policy.average]];
  const loadText = load === undefined ? 'load unknown' : `load ${load.toFixed(2)} (${policy.average})`;

  for (const tree of previous) {
    const alive = stillPaused(tree, host, outcome.warnings);
    if (alive.length === 0) continue;
    const root = host.byPid.get(alive[0]!.pid)!;
    const pausedFor = time - tree.since;
    let reason: string | undefined;
    if (policy.mode === 'audit') reason = `policy "${policy.name}" is in audit mode now`;
    else if (load !== undefined && load <= policy.resumeBelow) reason = `${loadText} ≤ ${policy.resumeBelow}`;
    else if (policy.maxPause !== undefined && pausedFor >= policy.maxPause) {
      reason = `paused for ${formatDuration(pausedFor)}, max_pause ${formatDuration(policy.maxPause)}`;
      (targets[targetKey(root)] ??= {}).released = true;
    }
    if (reason === undefined) {
      outcome.paused.push({ ...tree, processes: alive });
      outcome.observations.push({ policy: policy.name, target: targetOf(root), detail: `held paused: ${loadText}, resumes at ≤ ${policy.resumeBelow}`, verdict: 'hold' });
      continue;
    }
    outcome.proposals.push({ policy, action: 'resume', process: root, reason, processes: alive });
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
    outcome.proposals.push({ policy, action: 'pause', process, reason, processes: tree.map(ref) });
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
