// Warnings about policies that a local user could turn to their advantage, or that protect more
// than they say. procguard runs as root: a process name and a command line are chosen by
// whoever starts the process, and a child inherits its parent's oom_score_adj.
//
// 1. A protecting oom policy (a negative value), or a kill/stop policy, whose match selects by
//    `name` and/or `cmdline` only: any local user can start a process called sshd.
// 2. An oom policy with a negative value that protects supervisord itself (a match without
//    program/group/supervisor whose name, cmdline, exe or pidfile mentions "supervisord"),
//    while no oom policy covers the supervised programs (a match with program "*" or "*:*", or
//    with a group): every program supervisord starts, or procguard restarts, inherits the value.

import { diagnostic, type Diagnostic } from './diagnostics.js';
import { oomAdjToScoreAdj } from './model.js';
import { isRecord, policyEntries, policyLabel, stringItems, type Data, type Entry } from './walk.js';
import { locate, type ParsedFile } from './yaml-source.js';

/** Match keys only the process itself chooses: enough to find it, not to trust it. */
const SELF_CHOSEN_KEYS = new Set(['name', 'cmdline']);

export function checkProtections(files: readonly ParsedFile[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const policies = policyEntries(files);
  const programsCovered = policies.some((policy) => policy.value.kind === 'oom' && coversSupervisedPrograms(policy.value.match));
  for (const policy of policies) {
    const match = policy.value.match;
    if (!isRecord(match)) continue;
    const power = powerOf(policy.value);
    if (power !== undefined && selectsBySelfChosenKeysOnly(match)) {
      diagnostics.push(at(policy, 'match', `The match of ${policyLabel(policy)} uses only ${selectorText(match)}, which any process chooses for itself: any local user can start ${whoText(match)} and have procguard ${power}. Add user: (root for a system daemon), exe:, program:, group: or pidfile: to the match`));
    }
    const value = oomValue(policy.value);
    if (value !== undefined && value < 0 && protectsSupervisord(match) && !programsCovered) {
      diagnostics.push(at(policy, 'match', `${capitalize(policyLabel(policy))} protects supervisord (oom_score_adj ${value}), and every program supervisord starts inherits that value, including one procguard restarts for leaking memory; no oom policy covers the supervised programs. Add one, e.g. { kind: oom, match: { program: "*" }, oom_score_adj: 0 }`));
    }
  }
  return diagnostics;
}

/** What the policy would do to a process it matched, when that is worth a local user's while; else undefined. */
function powerOf(policy: Data): string | undefined {
  const value = oomValue(policy);
  if (value !== undefined) return value < 0 ? `protect it from the OOM killer (oom_score_adj ${value})` : undefined;
  if (policy.kind !== 'memory' && policy.kind !== 'runtime') return undefined;
  if (policy.action === 'kill') return 'kill it';
  if (policy.action === 'stop') return 'stop it';
  return undefined;
}

function oomValue(policy: Data): number | undefined {
  if (policy.kind !== 'oom') return undefined;
  if (typeof policy.oom_score_adj === 'number') return policy.oom_score_adj;
  return typeof policy.oom_adj === 'number' ? oomAdjToScoreAdj(policy.oom_adj) : undefined;
}

function selectors(match: Data): string[] {
  return Object.keys(match).filter((key) => key !== 'exclude');
}

function selectsBySelfChosenKeysOnly(match: Data): boolean {
  const keys = selectors(match);
  return keys.length > 0 && keys.every((key) => SELF_CHOSEN_KEYS.has(key));
}

function selectorText(match: Data): string {
  return selectors(match).map((key) => `"${key}"`).join(' and ');
}

/** "a process called sshd", or the general case. */
function whoText(match: Data): string {
  const names = stringItems(match.name, []).map(([name]) => name);
  if (names.length === 1 && !names[0]!.startsWith('/')) return `a process called ${names[0]}`;
  return selectors(match).includes('cmdline') ? 'a process with a matching command line' : 'a process with a matching name';
}

/** A match that selects supervisord itself, not its programs. */
function protectsSupervisord(match: Data): boolean {
  if (selectors(match).some((key) => key === 'program' || key === 'group' || key === 'supervisor')) return false;
  return ['name', 'cmdline', 'exe', 'pidfile'].some((key) => stringItems(match[key], []).some(([text]) => text.toLowerCase().includes('supervisord')));
}

/** A match with program "*" (or "*:*"), or any group: the supervised programs get their own value. */
function coversSupervisedPrograms(match: unknown): boolean {
  if (!isRecord(match)) return false;
  if (match.group !== undefined) return true;
  return stringItems(match.program, []).some(([glob]) => glob === '*' || glob === '*:*');
}

function at(policy: Entry, key: string, message: string): Diagnostic {
  return diagnostic(policy.file.path, locate(policy.file, [...policy.path, key], 'key'), 'warning', 'unsafe-match', message);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
