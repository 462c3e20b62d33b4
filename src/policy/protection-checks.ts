// Warnings about policies that a local user could turn to their advantage, or that protect more
// than they say. procguard runs as root: a process name and a command line are chosen by
// whoever starts the process, and a child inherits its parent's oom_score_adj.
//
// A policy that would do something worth a local user's while to a process it matched (each
// kind says what: protect it from the OOM killer, kill it, stop it) whose match selects by
// `name` and/or `cmdline` only: any local user can start a process called sshd. The oom kind
// adds its own check of a protected supervisord (src/policy/kinds/oom.ts).

import { diagnostic, type Diagnostic } from './diagnostics.js';
import { KINDS } from './kinds/index.js';
import { isRecord, policyLabel, stringItems, type Data, type Entry } from './walk.js';
import { locate } from './yaml-source.js';

/** Match keys only the process itself chooses: enough to find it, not to trust it. */
const SELF_CHOSEN_KEYS = new Set(['name', 'cmdline']);

export function checkProtections(policies: readonly Entry[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const policy of policies) {
    const match = policy.value.match;
    if (!isRecord(match)) continue;
    const kind = typeof policy.value.kind === 'string' ? KINDS.get(policy.value.kind) : undefined;
    const power = kind?.power?.(policy.value);
    if (power !== undefined && selectsBySelfChosenKeysOnly(match)) {
      diagnostics.push(
        at(
          policy,
          'match',
          `The match of ${policyLabel(policy)} uses only ${selectorText(match)}, which any process chooses for itself: any local user can start ${whoText(match)} and have procguard ${power}. Add user: (root for a system daemon), exe:, program:, group: or pidfile: to the match`,
        ),
      );
    }
  }
  return diagnostics;
}

function selectors(match: Data): string[] {
  return Object.keys(match).filter((key) => key !== 'exclude');
}

function selectsBySelfChosenKeysOnly(match: Data): boolean {
  const keys = selectors(match);
  return keys.length > 0 && keys.every((key) => SELF_CHOSEN_KEYS.has(key));
}

function selectorText(match: Data): string {
  return selectors(match)
    .map((key) => `"${key}"`)
    .join(' and ');
}

/** "a process called sshd", or the general case. */
function whoText(match: Data): string {
  const names = stringItems(match.name, []).map(([name]) => name);
  if (names.length === 1 && !names[0]!.startsWith('/')) return `a process called ${names[0]}`;
  return selectors(match).includes('cmdline') ? 'a process with a matching command line' : 'a process with a matching name';
}

function at(policy: Entry, key: string, message: string): Diagnostic {
  return diagnostic(policy.file.path, locate(policy.file, [...policy.path, key], 'key'), 'warning', 'unsafe-match', message);
}
