// Problems that stand from cycle to cycle without an action of their own: collector errors and
// plan warnings. Each is reported when it first appears and once when it is gone; the daemon
// keeps what it reported in memory, `apply --quiet` in the state (`reported`).

import type { Plan } from './plan.generated.js';

/** At most this many problems are remembered as reported; any beyond are reported every cycle. */
export const REPORTED_KEPT = 64;

/** A problem's text is remembered up to this many characters. */
const REPORTED_TEXT_MAX = 500;

export interface StandingChanges<T> {
  /** Keys not standing before, with what they stand for, in the order given. */
  began: [string, T][];
  /** Keys standing before and gone now. */
  ended: string[];
}

/** What appeared and what went away between two cycles' standing problems. */
export function standingChanges<T>(before: Iterable<string>, now: ReadonlyMap<string, T>): StandingChanges<T> {
  const previous = new Set(before);
  return {
    began: [...now].filter(([key]) => !previous.has(key)),
    ended: [...previous].filter((key) => !now.has(key)),
  };
}

/** "warning: TEXT" and "error: SOURCE: MESSAGE": a plan's standing problems, each its own key (cut to a bounded length). */
export function problemLines(plan: Pick<Plan, 'warnings' | 'errors'>): Map<string, { warning: string } | { error: Plan['errors'][number] }> {
  const lines = new Map<string, { warning: string } | { error: Plan['errors'][number] }>();
  for (const warning of plan.warnings ?? []) lines.set(boundedText(`warning: ${warning}`), { warning });
  for (const error of plan.errors) lines.set(boundedText(`error: ${error.source}: ${error.message}`), { error });
  return lines;
}

/** What the state keeps as reported: the first REPORTED_KEPT keys. */
export function reportedKept(keys: Iterable<string>): string[] {
  return [...keys].slice(0, REPORTED_KEPT);
}

function boundedText(text: string): string {
  return text.length <= REPORTED_TEXT_MAX ? text : `${text.slice(0, REPORTED_TEXT_MAX - 1)}…`;
}
