// What the kinds that act on a process over its limit (memory, runtime, cpu) share: the action
// and its grace, the flapping guard, the warning about a grace no action uses, and `only_when`:
// act only while the host is short of memory (its available memory below a size or share, or
// its memory pressure above a percentage). While the host is comfortable such a policy still
// measures and counts its cycles, but holds its action and says why.

import type { Snapshot } from '../../data/types.js';
import { formatBytes, formatDuration, limitBytes, type MemoryLimit } from '../../shared/units.js';
import type { Action, MaxActions } from '../base.js';
import type { PolicyHostNeeds } from '../host-needs.js';
import { durationAt, memoryLimitAt } from '../unit-values.js';
import { isRecord, type Data, type Entry } from '../walk.js';
import type { Proposal, Report } from './kind.js';

/** What an acting policy does when it leaves out action and grace. */
export const ACTING_DEFAULTS = { action: 'restart', grace: 10 } as const;

export interface ActingFields {
  action: Action;
  /** Seconds between TERM and KILL for action kill. */
  grace: number;
  maxActions?: MaxActions;
}

export function actingFields(raw: Data): ActingFields {
  const maxActions = isRecord(raw.max_actions) ? raw.max_actions : undefined;
  return {
    action: normalizeAction(raw.action),
    grace: durationAt(raw, 'grace') ?? ACTING_DEFAULTS.grace,
    ...(maxActions ? { maxActions: { count: maxActions.count as number, within: durationAt(maxActions, 'within') as number } } : {}),
  };
}

function normalizeAction(raw: unknown): Action {
  if (raw === undefined) return { type: ACTING_DEFAULTS.action };
  if (typeof raw === 'string') return { type: raw as Exclude<Action['type'], 'signal'> };
  return { type: 'signal', signal: String((raw as { signal: string }).signal).replace(/^SIG/, '') };
}

export function checkActing(policy: Entry, label: string, report: Report): void {
  const { file, path, value } = policy;
  if ('grace' in value && value.action !== 'kill') {
    report.add(file, [...path, 'grace'], 'warning', 'inconsistent', `"grace" in ${label} only applies to action kill; this policy's action is ${describeAction(value.action)}`, 'key');
  }
}

/** A kill or stop is worth a local user's while: they could start a process the policy matches. */
export function actingPower(raw: Data): string | undefined {
  if (raw.action === 'kill') return 'kill it';
  if (raw.action === 'stop') return 'stop it';
  return undefined;
}

export function actionProposal(fields: ActingFields): Pick<Proposal, 'action' | 'signal' | 'grace' | 'maxActions'> {
  const guard = fields.maxActions ? { maxActions: fields.maxActions } : {};
  if (fields.action.type === 'signal') return { action: 'signal', signal: fields.action.signal, ...guard };
  if (fields.action.type === 'kill') return { action: 'kill', grace: fields.grace, ...guard };
  return { action: fields.action.type, ...guard };
}

/** "restart", "kill (grace 10s)", "signal HUP", and the flapping guard if any. */
export function actionText(fields: ActingFields): string {
  const action = fields.action.type === 'signal' ? `signal ${fields.action.signal}` : fields.action.type === 'kill' ? `kill (grace ${formatDuration(fields.grace)})` : fields.action.type;
  const guard = fields.maxActions ? `, at most ${fields.maxActions.count} within ${formatDuration(fields.maxActions.within)}` : '';
  return `${action}${guard}`;
}

function describeAction(action: unknown): string {
  if (isRecord(action) && typeof action.signal === 'string') return `signal ${action.signal}`;
  return typeof action === 'string' ? action : 'restart (the default)';
}

export interface OnlyWhen {
  /** Act while MemAvailable is strictly below this. */
  memoryAvailableBelow?: MemoryLimit;
  /** Act while PSI memory some avg10 is strictly above this percentage. */
  memoryPressureAbove?: number;
}

export function onlyWhenOf(raw: Data): { onlyWhen?: OnlyWhen } {
  if (!isRecord(raw.only_when)) return {};
  const below = memoryLimitAt(raw.only_when, 'memory_available_below');
  const above = raw.only_when.memory_pressure_above;
  return {
    onlyWhen: {
      ...(below !== undefined ? { memoryAvailableBelow: below } : {}),
      ...(typeof above === 'number' ? { memoryPressureAbove: above } : {}),
    },
  };
}

/** What the host must give for the conditions to be judged. */
export function onlyWhenNeeds(onlyWhen: OnlyWhen | undefined): PolicyHostNeeds {
  if (!onlyWhen) return {};
  return {
    ...(onlyWhen.memoryAvailableBelow !== undefined ? { memory: true } : {}),
    ...(onlyWhen.memoryPressureAbove !== undefined ? { pressure: ['memory'] as const } : {}),
  };
}

/** "available 10%", "memory pressure 20": the conditions as written, for the status page. */
export function onlyWhenText(onlyWhen: OnlyWhen): string {
  const parts: string[] = [];
  const below = onlyWhen.memoryAvailableBelow;
  if (below) parts.push(`available memory < ${'bytes' in below ? formatBytes(below.bytes) : `${below.percent}%`}`);
  if (onlyWhen.memoryPressureAbove !== undefined) parts.push(`memory pressure > ${onlyWhen.memoryPressureAbove}%`);
  return `only when ${parts.join(' or ')}`;
}

export interface HostShortness {
  /** A condition holds: the policy may act. */
  short: boolean;
  /** Why, in words: "available memory 5.0 GiB ≥ 10% (2.4 GiB), memory pressure unknown". */
  text: string;
}

/**
 * Whether the host is short of memory by the policy's conditions: any one that holds is enough.
 * A condition the snapshot cannot judge (no meminfo, no PSI: the collectors report why) never
 * holds, so a policy never acts on a figure it could not read.
 */
export function hostShortness(onlyWhen: OnlyWhen, snapshot: Snapshot): HostShortness {
  const reasons: string[] = [];
  let short = false;
  const below = onlyWhen.memoryAvailableBelow;
  if (below !== undefined) {
    const memory = snapshot.memory;
    const threshold = limitBytes(below, memory?.total);
    const written = 'bytes' in below ? formatBytes(below.bytes) : `${below.percent}% (${threshold === undefined ? '?' : formatBytes(threshold)})`;
    if (memory === undefined || threshold === undefined) reasons.push(`available memory unknown`);
    else if (memory.available < threshold) {
      short = true;
      reasons.push(`available memory ${formatBytes(memory.available)} < ${written}`);
    } else reasons.push(`available memory ${formatBytes(memory.available)} ≥ ${written}`);
  }
  const above = onlyWhen.memoryPressureAbove;
  if (above !== undefined) {
    const some = snapshot.pressure?.memory?.some.avg10;
    if (some === undefined) reasons.push('memory pressure unknown (no PSI)');
    else if (some > above) {
      short = true;
      reasons.push(`memory pressure ${some}% > ${above}%`);
    } else reasons.push(`memory pressure ${some}% ≤ ${above}%`);
  }
  return { short, text: reasons.join(', ') };
}
