// Which process fields the policies need read, and for which processes: command lines and
// executables cost a file read per process, so a collector with a second pass reads them only
// where a policy's other keys leave a process in question, and oom_score_adj only where a
// policy of a kind that reads it (oom) matches. The collector asks; the matcher that answers
// stays here.

import type { ProcessEntry, Snapshot } from '../data/types.js';
import type { Matcher, PolicySet } from '../policy/model.js';
import { indexSnapshot, type HostIndex } from '../data/host-index.js';
import { kindOf } from '../policy/kinds/index.js';
import { matchProcesses } from './match.js';
import { combineHostNeeds, PRESSURE_RESOURCES, pressureText, type HostNeeds } from '../policy/host-needs.js';
import type { CollectorError } from '../data/types.js';

/** A field the second pass reads for the processes that need it. */
export type LaterField = 'cmdline' | 'exe' | 'oomScoreAdj' | 'smaps';

export interface FieldsNeeded {
  /** Whether the first pass reads these for every process: a policy matches on them alone. */
  readonly firstPass: { cmdline: boolean; exe: boolean };
  /**
   * For a first-pass snapshot, the processes that need `field` read: asked for cmdline, then exe,
   * then oomScoreAdj, then smaps, each once the fields asked before have been read into the snapshot.
   */
  forSnapshot(snapshot: Snapshot): (field: LaterField) => ProcessEntry[];
  /** The host's memory and pressure, by the first policy that needs each. */
  readonly host: HostNeeds;
}

export function fieldsNeeded(policySet: PolicySet): FieldsNeeded {
  const unnarrowed = policySet.policies.filter((p) => narrowing(p.match) === undefined);
  return {
    firstPass: {
      cmdline: unnarrowed.some((p) => needs(p.match, 'cmdline')),
      exe: unnarrowed.some((p) => needs(p.match, 'exe')),
    },
    forSnapshot(snapshot) {
      // One index for all three questions: the second pass fills in the same process entries.
      const host = indexSnapshot(snapshot);
      return (field) => (field === 'oomScoreAdj' ? oomTargets(policySet, host) : field === 'smaps' ? smapsTargets(policySet, host) : inQuestion(policySet, host, field));
    },
    host: hostNeedsOf(policySet),
  };
}

export function hostNeedsOf(policySet: PolicySet): HostNeeds {
  return combineHostNeeds(policySet.policies.map((policy) => ({ name: policy.name, needs: kindOf(policy.kind).hostNeeds?.(policy) })));
}

/**
 * What the policies need of the host and the snapshot lacks, as errors: a snapshot file taken
 * without them, or on a host without PSI, fails the check as the collector would (exit 3).
 * A need the collectors already reported an error for is not reported twice.
 */
export function missingHostData(policySet: PolicySet, snapshot: Snapshot): CollectorError[] {
  const needs = hostNeedsOf(policySet);
  const reported = new Set((snapshot.errors ?? []).map((e) => e.source));
  const missing: CollectorError[] = [];
  if (needs.memory !== undefined && !snapshot.memory && !reported.has('meminfo')) {
    missing.push({ source: 'meminfo', message: `the snapshot has no host memory (/proc/meminfo); policy "${needs.memory}" needs it` });
  }
  for (const resource of PRESSURE_RESOURCES) {
    const by = needs.pressure[resource];
    if (by !== undefined && !snapshot.pressure?.[resource] && !reported.has('pressure')) {
      missing.push({ source: 'pressure', message: `the snapshot has no ${pressureText(resource)}; policy "${by}" needs it` });
    }
  }
  return missing;
}

/** The fields read in the second pass for the processes a policy's other keys select. */
type NarrowedKey = 'cmdline' | 'exe';

/** Processes a policy's other keys select whose `key` is not read yet. */
function inQuestion(policySet: PolicySet, host: HostIndex, key: NarrowedKey): ProcessEntry[] {
  const need = new Set<ProcessEntry>();
  for (const policy of policySet.policies) {
    const narrowed = needs(policy.match, key) ? narrowing(policy.match) : undefined;
    if (narrowed) for (const process of matchProcesses(narrowed, host)) if (process[key] === undefined) need.add(process);
  }
  return [...need];
}

function oomTargets(policySet: PolicySet, host: HostIndex): ProcessEntry[] {
  const need = new Set<ProcessEntry>();
  for (const policy of policySet.policies) {
    if (kindOf(policy.kind).reads?.includes('oomScoreAdj')) for (const process of matchProcesses(policy.match, host)) need.add(process);
  }
  return [...need];
}

/** The processes whose smaps_rollup a policy measuring PSS, USS or swap needs (its kind says which of those it matched). */
function smapsTargets(policySet: PolicySet, host: HostIndex): ProcessEntry[] {
  const need = new Set<ProcessEntry>();
  for (const policy of policySet.policies) {
    const kind = kindOf(policy.kind);
    if (!kind.processReads?.(policy)?.fields.includes('smaps') || !kind.smapsTargets) continue;
    for (const process of kind.smapsTargets(policy, matchProcesses(policy.match, host), host)) need.add(process);
  }
  return [...need];
}

function withExcludes(matcher: Matcher): Matcher[] {
  return matcher.exclude ? [matcher, ...withExcludes(matcher.exclude)] : [matcher];
}

function needs(matcher: Matcher, key: NarrowedKey): boolean {
  return withExcludes(matcher).some((m) => m[key] !== undefined);
}

const narrowings = new WeakMap<Matcher, Matcher | null>();

/**
 * A matcher without its command line, executable and exclusions: every process the full matcher
 * can select passes it, so only those need them read. undefined when nothing is left.
 */
function narrowing(matcher: Matcher): Matcher | undefined {
  let narrowed = narrowings.get(matcher);
  if (narrowed === undefined) {
    const { cmdline: _cmdline, exe: _exe, exclude: _exclude, ...rest } = matcher;
    narrowed = Object.keys(rest).length > 0 ? rest : null;
    narrowings.set(matcher, narrowed);
  }
  return narrowed ?? undefined;
}
