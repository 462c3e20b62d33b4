// What the kinds that act on a process over its limit (memory, runtime) share: the action and
// its grace, the flapping guard, and the warning about a grace no action uses.

import { formatDuration } from '../../shared/units.js';
import type { Action, MaxActions } from '../base.js';
import { durationAt } from '../unit-values.js';
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
