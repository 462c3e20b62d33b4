// kind: load — pause the matched process trees with SIGSTOP while the load average is above
// pause_above, hold them in the band, resume at or below resume_below or after max_pause
// (dmon -L/-l). Only processes procguard paused itself (same pid and start time) are ever
// resumed. Its schema: #/definitions/loadPolicy in schemas/policy.schema.json.

import { hasAncestorIn, processTree, sameStartTime, targetKey, targetOf, type HostIndex, type LiveProcess } from '../../data/host-index.js';
import type { PausedTree, ProcessRef, Snapshot } from '../../data/types.js';
import { formatDuration } from '../../shared/units.js';
import type { PolicyBase } from '../base.js';
import { durationAt } from '../unit-values.js';
import type { KindContext, KindResult, PolicyKind, Proposal, Report } from './kind.js';
import type { Entry } from '../walk.js';

export type LoadSource = 'loadavg' | 'cpu_pressure' | 'io_pressure' | 'memory_pressure';

export interface LoadPolicy extends PolicyBase {
  kind: 'load';
  /** `source:` — what the band is read against: the load average, or a pressure stall share in percent. */
  loadSource: LoadSource;
  pauseAbove: number;
  resumeBelow: number;
  average: '1m' | '5m' | '15m' | '10s' | '60s' | '300s';
  /** Seconds, or undefined for no limit. */
  maxPause?: number;
}

const AVERAGES = { '1m': 0, '5m': 1, '15m': 2 } as const;
const PRESSURE_AVERAGES = { '10s': 'avg10', '60s': 'avg60', '300s': 'avg300' } as const;
const PRESSURE_RESOURCES = { cpu_pressure: 'cpu', io_pressure: 'io', memory_pressure: 'memory' } as const;

/** What a load policy watches when it leaves out source and average. */
export const LOAD_DEFAULTS = { source: 'loadavg', average: '1m', pressureAverage: '10s' } as const;

/** The /proc/pressure file a pressure source reads ("cpu"), or undefined for the load average. */
export function pressureResource(source: LoadSource): 'cpu' | 'io' | 'memory' | undefined {
  return source === 'loadavg' ? undefined : PRESSURE_RESOURCES[source];
}

/** The policy's reading of the snapshot, in words and as a number; undefined when the snapshot lacks it. */
function readingOf(policy: LoadPolicy, snapshot: Snapshot): { value: number | undefined; text: string; unit: 'load' | 'percent' } {
  const resource = pressureResource(policy.loadSource);
  if (resource === undefined) {
    const value = snapshot.load?.[AVERAGES[policy.average as keyof typeof AVERAGES]];
    return { value, text: value === undefined ? 'load unknown' : `load ${value.toFixed(2)} (${policy.average})`, unit: 'load' };
  }
  const value = snapshot.pressure?.[resource]?.some?.[PRESSURE_AVERAGES[policy.average as keyof typeof PRESSURE_AVERAGES]];
  const name = `${resource} pressure`;
  return { value, text: value === undefined ? `${name} unknown` : `${name} ${value.toFixed(2)}% (some, ${policy.average})`, unit: 'percent' };
}

/** "4", or "40%" for a pressure source: a figure of the band as the policy file gives it. */
function bandFigure(policy: LoadPolicy, value: number): string {
  return policy.loadSource === 'loadavg' ? String(value) : `${value}%`;
}

export const load: PolicyKind<LoadPolicy> = {
  kind: 'load',
  schemaDefinition: 'loadPolicy',
  keyHints: {
    high: 'pause_above',
    low: 'resume_below',
    resume_above: 'resume_below',
  },
  pauses: true,
  hostNeeds(policy) {
    const resource = pressureResource(policy.loadSource);
    return resource === undefined ? undefined : { pressure: [resource] };
  },
  normalize(raw, base) {
    const pauseAbove = raw.pause_above as number;
    const maxPause = durationAt(raw, 'max_pause');
    const source = (raw.source as LoadSource | undefined) ?? LOAD_DEFAULTS.source;
    return {
      ...base,
      kind: 'load',
      loadSource: source,
      pauseAbove,
      resumeBelow: (raw.resume_below as number | undefined) ?? pauseAbove / 2,
      average: (raw.average as LoadPolicy['average'] | undefined) ?? (source === 'loadavg' ? LOAD_DEFAULTS.average : LOAD_DEFAULTS.pressureAverage),
      ...(maxPause !== undefined ? { maxPause } : {}),
    };
  },
  positiveDurations: [['max_pause']],
  check(policy, label, report) {
    const { file, path, value } = policy;
    checkSource(policy, label, report);
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
    const what = pressureResource(policy.loadSource) === undefined ? 'load' : `${pressureResource(policy.loadSource)} pressure`;
    return `pause above ${what} ${bandFigure(policy, policy.pauseAbove)} (${policy.average}), resume at ${bandFigure(policy, policy.resumeBelow)}${limit}`;
  },
  evaluate: evaluateLoadPolicy,
};

/** The average and the band against the source: a source the schema refused has its own message, so only a known one is judged. */
function checkSource({ file, path, value }: Entry, label: string, report: Report): void {
  const source = typeof value.source === 'string' ? (value.source as LoadSource) : LOAD_DEFAULTS.source;
  if (source !== 'loadavg' && !Object.hasOwn(PRESSURE_RESOURCES, source)) return;
  const pressure = source !== 'loadavg';
  if (typeof value.average === 'string' && Object.hasOwn(PRESSURE_AVERAGES, value.average) !== pressure) {
    const fits = pressure ? '10s, 60s or 300s (the averages of /proc/pressure)' : '1m, 5m or 15m (the load averages)';
    const why = pressure ? `source ${source} reads pressure stall averages` : `source ${'source' in value ? 'loadavg' : 'loadavg (the default)'} reads the load average`;
    const otherwise = pressure ? '' : '; for 10s, 60s or 300s set source: cpu_pressure, io_pressure or memory_pressure';
    report.add(file, [...path, 'average'], 'error', 'inconsistent', `"average" ${value.average} does not fit ${label}: ${why}, so use ${fits}${otherwise}`);
  }
  if (!pressure) return;
  for (const key of ['pause_above', 'resume_below'] as const) {
    const band = value[key];
    if (typeof band === 'number' && band > 100) {
      report.add(file, [...path, key], 'error', 'invalid-value', `"${key}" is ${band} in ${label}, but source ${source} is a percentage of time stalled: at most 100`);
    }
  }
}

function evaluateLoadPolicy(policy: LoadPolicy, context: KindContext): KindResult {
  const { matched, host, paused: previous, pausedByAny, targets, time } = context;
  // Without the process table, a paused process would look gone: its tree stays as it was.
  if (context.blind) return { proposals: [], observations: [], warnings: [], paused: [...previous] };
  const outcome: KindResult & { paused: PausedTree[] } = { proposals: [], observations: [], warnings: [], paused: [] };
  for (const p of matched) context.seen.add(targetKey(p));
  const reading = readingOf(policy, host.snapshot);
  const { value: load, text: loadText } = reading;
  const measure = (limit: number) => (load === undefined ? {} : { measure: { value: load, limit, unit: reading.unit, ...(reading.unit === 'percent' ? { name: policy.loadSource } : {}) } });
  const resumeAt = bandFigure(policy, policy.resumeBelow);
  const pauseAt = bandFigure(policy, policy.pauseAbove);
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
      reason = `${loadText} ≤ ${resumeAt}`;
      figures = measure(policy.resumeBelow);
    } else if (policy.maxPause !== undefined && pausedFor >= policy.maxPause) {
      reason = `paused for ${formatDuration(pausedFor)}, max_pause ${formatDuration(policy.maxPause)}`;
      figures = { measure: { value: pausedFor, limit: policy.maxPause, unit: 'seconds' } };
      (targets[targetKey(root)] ??= {}).released = true;
    }
    if (reason === undefined) {
      outcome.paused.push({ ...tree, processes: alive });
      outcome.observations.push({ policy: policy.name, target: targetOf(root), detail: `held paused: ${loadText}, resumes at ≤ ${resumeAt}`, verdict: 'hold' });
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
      outcome.observations.push({ policy: policy.name, target, detail: `${loadText} ≤ ${pauseAt}`, verdict: 'ok' });
      continue;
    }
    if (targets[targetKey(process)]?.released) {
      outcome.observations.push({
        policy: policy.name,
        target,
        detail: `${loadText} > ${pauseAt}, but max_pause released it; paused again once the ${policy.loadSource === 'loadavg' ? 'load' : 'pressure'} falls to ${resumeAt}`,
        verdict: 'over',
      });
      continue;
    }
    const tree = processTree(host, process).filter((p) => !host.untouchable.has(p.pid) && !pausedByAny.has(p.pid));
    const reason = `${loadText} > ${pauseAt}`;
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
