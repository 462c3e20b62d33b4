// Small builders for snapshot fixtures in engine tests.

import assert from 'node:assert/strict';
import type { PolicySet } from '../../src/policy/model.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type EngineState, type Evaluation, type Plan, type ProcessEntry, type Snapshot } from '../../src/data/types.js';
import { validateTexts } from './policy-files.js';

export const T0 = 1795266602;
export const MiB = 1024 * 1024;

export function policySetOf(text: string): PolicySet {
  const result = validateTexts({ 'policies.yaml': text });
  assert.deepEqual(
    result.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  assert.ok(result.policySet);
  return result.policySet;
}

/** A running process; started 100 s before T0 unless told. */
export function proc(pid: number, name: string, fields: Partial<ProcessEntry> = {}): ProcessEntry {
  return { pid, ppid: 1, name, rss: 10 * MiB, start_time: T0 - 100, state: 'S', ...fields };
}

/** A supervisord child: group:name, joined by pid. */
export function program(pid: number, spec: string, fields: Partial<ProcessEntry> = {}): ProcessEntry {
  const [group = spec, name = spec] = spec.includes(':') ? spec.split(':') : [spec, spec];
  return proc(pid, 'python', {
    ppid: 500,
    supervisor: { server: 'main', group, name, statename: pid === 0 ? 'STOPPED' : 'RUNNING', start: T0 - 100 },
    ...fields,
  });
}

export function snapshot(processes: ProcessEntry[], fields: Partial<Snapshot> = {}): Snapshot {
  return { version: 1, time: T0, host: 'web1', load: [0.5, 0.5, 0.5], processes: [proc(1, 'init', { ppid: 0 }), proc(500, 'supervisord'), ...processes], ...fields };
}

/** Evaluates snapshots one after the other, carrying the state, one minute apart unless their times differ. */
export function cycles(set: PolicySet, snapshots: Snapshot[], state: EngineState = emptyState()): Evaluation[] {
  const results: Evaluation[] = [];
  let current = state;
  snapshots.forEach((snap, i) => {
    const timed = snap.time === T0 && i > 0 ? { ...snap, time: T0 + 60 * i } : snap;
    const result = evaluate(set, timed, current, timed.time);
    results.push(result);
    current = result.state;
  });
  return results;
}

/** One line per action: "policy action target status: reason". */
export function actionLines(plan: Plan): string[] {
  return plan.actions.map((a) => {
    const who = a.target.namespec ?? `${a.target.name}/${a.target.pid}`;
    const extra = a.value !== undefined ? ` ${a.value}` : a.signal !== undefined ? ` ${a.signal}` : '';
    return `${a.policy} ${a.action}${extra} ${who} ${a.status}: ${a.reason}`;
  });
}
