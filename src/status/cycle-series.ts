// What the last cycle saw, as the samples of Prometheus gauges: each supervisor's reachability,
// each program's state and start time (the series node_exporter's supervisord collector had,
// labelled by supervisor too), each matched target's measured value against its policy's limit
// and the cycles it has been over, the trees paused and since when, the conditions failing.
//
// A target is labelled by supervisor, group and name: a supervisord program by its namespec, any
// other process by its name with the supervisor and group left empty. Pids are no labels (each
// restart would start new series); processes of one name matched by one policy are one series,
// the one nearest its limit (the largest value), which is the one an alert is about.

import { targetKeyOf } from '../data/lasting.js';
import type { EngineState, Measure, Observation, SupervisorEntry, Target } from '../data/types.js';
import type { CycleResult } from '../modes/cycle.js';

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

/** supervisord's numeric state codes (supervisor.states.ProcessStates), as getProcessInfo gives them and node_exporter exported them. */
export const SUPERVISOR_STATE_CODES: Readonly<Record<SupervisorEntry['statename'], number>> = {
  STOPPED: 0,
  STARTING: 10,
  RUNNING: 20,
  BACKOFF: 30,
  STOPPING: 40,
  EXITED: 100,
  FATAL: 200,
  UNKNOWN: 1000,
};

export interface CycleSeries {
  supervisorUp: Sample[];
  programUp: Sample[];
  programState: Sample[];
  programStartTime: Sample[];
  /** By unit: the measured value and the policy's limit of every matched target measured in bytes or seconds. */
  measured: Record<'bytes' | 'seconds', Sample[]>;
  limit: Record<'bytes' | 'seconds', Sample[]>;
  cyclesOver: Sample[];
  pausedTrees: Sample[];
  pausedSince: Sample[];
  failingConditions: Sample[];
  notificationsWaiting: number;
}

/** The series of one cycle; `supervisors` are the names procguard asked (configured, or the one of the environment). */
export function cycleSeries(result: CycleResult, supervisors: readonly string[]): CycleSeries {
  const { snapshot, evaluation, state } = result;
  const unreachable = new Set((snapshot.errors ?? []).filter((e) => e.source.startsWith('supervisor:')).map((e) => e.source.slice('supervisor:'.length)));
  const programs = snapshot.processes.flatMap((p) => (p.supervisor ? [{ process: p, program: p.supervisor }] : []));
  const programLabels = (sv: SupervisorEntry): Labels => ({ supervisor: sv.server, group: sv.group, name: sv.name });
  const byPid = new Map(snapshot.processes.filter((p) => p.pid > 0).map((p) => [p.pid, p]));

  const measured = { bytes: new Series(), seconds: new Series() };
  const limit = { bytes: new Series(), seconds: new Series() };
  const cyclesOver = new Series();
  const audited = new Map((state.lasting ?? []).filter((c) => c.kind === 'audit').map((c) => [`${c.policy}\0${c.target_key}`, c.attempts]));
  for (const observation of evaluation.observations) {
    const labels = { policy: observation.policy, ...targetLabels(observation.target) };
    const unit = measuredUnit(observation.measure);
    if (unit && observation.measure) {
      // The limit goes with the value kept: the largest of the processes sharing these labels.
      if (measured[unit].max(labels, observation.measure.value)) limit[unit].set(labels, observation.measure.limit);
    }
    cyclesOver.max(labels, cyclesOverOf(observation, state, audited));
  }

  const pausedTrees = new Series();
  const pausedSince = new Series();
  for (const tree of state.paused) {
    pausedTrees.add({ policy: tree.policy }, 1);
    const program = byPid.get(tree.root.pid)?.supervisor;
    const labels = { policy: tree.policy, ...(program ? programLabels(program) : { supervisor: '', group: '', name: tree.root.name }) };
    pausedSince.min(labels, tree.since);
  }

  const failing = new Series();
  for (const condition of state.lasting ?? []) if (condition.kind === 'failing') failing.add({ policy: condition.policy, action: condition.action }, 1);

  return {
    supervisorUp: supervisors.map((name) => ({ labels: { supervisor: name }, value: unreachable.has(name) ? 0 : 1 })),
    programUp: programs.map(({ program }) => ({ labels: programLabels(program), value: program.statename === 'RUNNING' ? 1 : 0 })),
    programState: programs.map(({ program }) => ({ labels: programLabels(program), value: SUPERVISOR_STATE_CODES[program.statename] })),
    // The process' own start time from /proc where it was read, supervisord's word otherwise.
    programStartTime: programs.flatMap(({ process, program }) => {
      const start = process.pid > 0 ? (process.start_time ?? program.start) : undefined;
      return program.statename === 'RUNNING' && start !== undefined ? [{ labels: programLabels(program), value: start }] : [];
    }),
    measured: { bytes: measured.bytes.samples(), seconds: measured.seconds.samples() },
    limit: { bytes: limit.bytes.samples(), seconds: limit.seconds.samples() },
    cyclesOver: cyclesOver.samples(),
    pausedTrees: pausedTrees.samples(),
    pausedSince: pausedSince.samples(),
    failingConditions: failing.samples(),
    notificationsWaiting: state.pending?.length ?? 0,
  };
}

/** A supervisord program by its namespec; any other process by its name. */
export function targetLabels(target: Target): Labels {
  if (target.supervisor !== undefined && target.namespec !== undefined) {
    const colon = target.namespec.indexOf(':');
    return { supervisor: target.supervisor, group: colon < 0 ? target.namespec : target.namespec.slice(0, colon), name: colon < 0 ? target.namespec : target.namespec.slice(colon + 1) };
  }
  return { supervisor: '', group: '', name: target.name };
}

/**
 * Consecutive cycles over the limit: the count a policy with `for` keeps, the cycles an
 * audit-mode finding has been seen in (`audited`, by policy and target key), else 1 for a
 * target over the limit now (acted on at once).
 */
function cyclesOverOf(observation: Observation, state: EngineState, audited: ReadonlyMap<string, number>): number {
  if (observation.verdict === 'ok') return 0;
  const key = targetKeyOf(observation.target);
  const counted = state.targets[observation.policy]?.[key]?.over ?? 0;
  return Math.max(1, counted, audited.get(`${observation.policy}\0${key}`) ?? 0);
}

function measuredUnit(measure: Observation['measure'] | undefined): 'bytes' | 'seconds' | undefined {
  const unit: Measure['unit'] | undefined = measure?.unit;
  return unit === 'bytes' || unit === 'seconds' ? unit : undefined;
}

/** Samples by label set, combined as they come: summed, or the largest or smallest kept. */
class Series {
  private readonly entries = new Map<string, Sample>();

  add(labels: Labels, value: number): void {
    const entry = this.entry(labels, 0);
    entry.value += value;
  }

  /** True when the value is kept: the first for these labels, or larger than the one before. */
  max(labels: Labels, value: number): boolean {
    const key = keyOf(labels);
    const before = this.entries.get(key);
    if (before && before.value >= value) return false;
    this.entries.set(key, { labels, value });
    return true;
  }

  min(labels: Labels, value: number): void {
    const key = keyOf(labels);
    const before = this.entries.get(key);
    if (!before || value < before.value) this.entries.set(key, { labels, value });
  }

  set(labels: Labels, value: number): void {
    this.entries.set(keyOf(labels), { labels, value });
  }

  samples(): Sample[] {
    return [...this.entries.values()];
  }

  private entry(labels: Labels, initial: number): Sample {
    const key = keyOf(labels);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { labels, value: initial };
      this.entries.set(key, entry);
    }
    return entry;
  }
}

function keyOf(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
