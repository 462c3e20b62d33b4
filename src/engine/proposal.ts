// What a policy kind asks for before the shared rules (audit mode, the flapping guard, one
// disruptive action per process per cycle) decide whether it is planned or skipped.

import type { Policy } from '../policy/model.js';
import type { LiveProcess } from '../data/host-index.js';
import type { ActionName, Observation, ProcessRef, TargetState } from '../data/types.js';

export interface Proposal {
  policy: Policy;
  action: ActionName;
  process: LiveProcess;
  /** The observed value against the limit. */
  reason: string;
  /** set_oom_score_adj */
  value?: number;
  /** signal */
  signal?: string;
  /** kill */
  grace?: number;
  /** pause/resume: every process of the tree. */
  processes?: ProcessRef[];
  /** The target's memory for the notification (memory: the value compared). */
  rss?: number;
  limit?: number;
  /** memory/runtime: where its counters and action history live. */
  key?: string;
}

/** What a kind's evaluation hands back: proposals in order and what it saw. */
export interface KindResult {
  proposals: Proposal[];
  observations: Observation[];
  warnings: string[];
}

/** The state of one policy's targets, copied so the caller's state is never changed. */
export type PolicyTargets = Record<string, TargetState>;

export const DISRUPTIVE: ReadonlySet<ActionName> = new Set(['restart', 'stop', 'kill', 'signal']);
