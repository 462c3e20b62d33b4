// What `plan` and `diff` share: the hosts' snapshots read from files and directories (a broken
// one is that host's error, never the end of the run), and a policy set evaluated against each
// as that host, with its name and labels, the snapshot held for as long as the policies wait.

import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { evaluate } from '../engine/evaluate.js';
import { emptyState, type EngineState, type Evaluation, type Plan, type Snapshot } from '../data/types.js';
import { formatDiagnostic } from '../policy/diagnostics.js';
import { hostIdentity, type HostIdentity } from '../policy/hosts.js';
import type { PolicySet } from '../policy/model.js';
import { parseSnapshotFile } from '../policy/snapshot-file.js';
import { readTextFile } from '../shared/bounded-read.js';
import { ExitCode } from '../shared/exit-codes.js';
import { describeIoError } from '../policy/load.js';
import { CliFailure } from './context.js';
import { checkExitCode } from './check.js';

/** As a snapshot file read by check (10,000 processes is about 3 MiB). */
const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;

/** One host's snapshot, or why it could not be read. */
export type HostSnapshot = { file: string; host: string; snapshot: Snapshot } | { file: string; host: string; problem: string };

/** The snapshot files given: each FILE as it is, each DIR's *.json in name order. */
export async function snapshotFiles(paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) throw new CliFailure('--snapshots needs at least one file or directory (procguard snapshot --json > snapshots/HOST.json on each host)', ExitCode.INVALID);
  const files: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new CliFailure(`${path}: ${describeIoError(error)}`, ExitCode.INVALID);
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path)).filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
    if (names.length === 0) throw new CliFailure(`${path}: no snapshots (*.json) in this directory`, ExitCode.INVALID);
    files.push(...names.map((name) => join(path, name)));
  }
  return files;
}

export async function readHostSnapshots(paths: readonly string[]): Promise<HostSnapshot[]> {
  const hosts: HostSnapshot[] = [];
  for (const file of await snapshotFiles(paths)) {
    const named = basename(file).replace(/\.json$/, '');
    const text = await readTextFile(file, MAX_SNAPSHOT_BYTES, 'snapshot');
    if (typeof text !== 'string') {
      hosts.push({ file, host: named, problem: text.message });
      continue;
    }
    const parsed = await parseSnapshotFile(file, text);
    if (!parsed.data) {
      const first = parsed.diagnostics.slice(0, 3).map(formatDiagnostic);
      const more = parsed.diagnostics.length > 3 ? ` (and ${parsed.diagnostics.length - 3} more)` : '';
      hosts.push({ file, host: named, problem: `not a valid snapshot: ${first.join('; ')}${more}` });
      continue;
    }
    hosts.push({ file, host: parsed.data.host, snapshot: parsed.data });
  }
  return hosts;
}

/** One host's outcome: its plan (a broken snapshot's plan carries only the error). */
export interface HostPlan {
  file: string;
  host: string;
  plan: Plan;
  evaluation?: Evaluation;
  snapshot?: Snapshot;
  /** The snapshot could not be read. */
  problem?: string;
}

/** Enough for any `for:` a policy sets; the loop ends as soon as no counter grows. */
const MAX_HELD_CYCLES = 100;

/**
 * What the policies do to a host whose snapshot stands for as long as they wait: the snapshot is
 * evaluated cycle after cycle, carrying only the over-limit counters, until none grows, and the
 * last cycle's plan is the host's. A policy with `for: 3` acts in it as one with `for: 1` does;
 * nothing carried over stands for an earlier action, pause or notification.
 */
export function steadyEvaluation(policySet: PolicySet, snapshot: Snapshot, host: HostIdentity): Evaluation {
  let state: EngineState = emptyState();
  let evaluation = evaluate(policySet, snapshot, state, snapshot.time, { host });
  for (let cycle = 1; cycle < MAX_HELD_CYCLES; cycle += 1) {
    const counters = overCounters(evaluation.state);
    if (!grew(counters, state)) break;
    state = counters;
    evaluation = evaluate(policySet, snapshot, state, snapshot.time, { host });
  }
  return evaluation;
}

function overCounters(state: EngineState): EngineState {
  const targets: EngineState['targets'] = {};
  for (const [policy, entries] of Object.entries(state.targets)) {
    for (const [key, entry] of Object.entries(entries)) {
      if (entry.over === undefined) continue;
      targets[policy] = { ...(targets[policy] ?? {}), [key]: { over: entry.over } };
    }
  }
  return { ...emptyState(), targets };
}

function grew(next: EngineState, previous: EngineState): boolean {
  return Object.entries(next.targets).some(([policy, entries]) => Object.entries(entries).some(([key, entry]) => (entry.over ?? 0) > (previous.targets[policy]?.[key]?.over ?? 0)));
}

/** Each host evaluated as itself (its name and its labels from the policy set), its snapshot held as long as the policies wait (steadyEvaluation). */
export function planHosts(policySet: PolicySet, hosts: readonly HostSnapshot[]): HostPlan[] {
  return hosts.map((entry) => {
    if ('problem' in entry) {
      const plan: Plan = { version: 1, time: 0, host: entry.host, actions: [], notifications: [], errors: [{ source: 'snapshot', message: `${entry.file}: ${entry.problem}` }] };
      return { file: entry.file, host: entry.host, plan, problem: entry.problem };
    }
    const { snapshot } = entry;
    const evaluation = steadyEvaluation(policySet, snapshot, hostIdentity(policySet, snapshot.host));
    return { file: entry.file, host: entry.host, plan: evaluation.plan, evaluation, snapshot };
  });
}

/** A host would act when its plan holds a planned action or notification. */
export function wouldAct(plan: Plan): boolean {
  return plan.actions.some((a) => a.status === 'planned') || plan.notifications.some((n) => n.status === 'planned');
}

/** 2 when a snapshot is broken, else as check: 3 when a snapshot carries a collector error, 1 when a host would act, 0. */
export function fleetExitCode(plans: readonly HostPlan[]): ExitCode {
  if (plans.some((p) => p.problem !== undefined)) return ExitCode.INVALID;
  const codes = plans.map((p) => checkExitCode(p.plan));
  if (codes.includes(ExitCode.FAILED)) return ExitCode.FAILED;
  return codes.includes(ExitCode.ACTIONS_PLANNED) ? ExitCode.ACTIONS_PLANNED : ExitCode.OK;
}
