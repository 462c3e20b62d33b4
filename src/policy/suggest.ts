// "Did you mean …?" for misspelt keys and values, and for the words operators bring
// from the tools procguard replaces (memmon's -c, dmon's -L, a plain "password").

import { distance } from 'fastest-levenshtein';
import { KINDS } from './kinds/index.js';

/** Keys people write that mean something procguard spells differently, per place. */
const KEY_HINTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  policy: {
    // Each kind's own words (src/policy/kinds), then those of every policy.
    ...Object.assign({}, ...[...KINDS.values()].map((kind) => kind.keyHints ?? {})),
    uptime: 'notify: [{to: NOTIFIER, uptime_at_most: …}]',
    email: 'notify: [{to: NOTIFIER}]',
    mail: 'notify: [{to: NOTIFIER}]',
    program: 'match: {program: …}',
    programs: 'match: {program: …}',
    group: 'match: {group: …}',
    cmdline: 'match: {cmdline: …}',
    user: 'match: {user: …}',
    pidfile: 'match: {pidfile: …}',
    exclude: 'match: {exclude: …}',
    any: 'match: {program: "*"}',
    signal: 'action: {signal: NAME}',
  },
  supervisor: {
    password: 'password_env or password_file',
    serverurl: 'url',
    server_url: 'url',
    user: 'username',
  },
  smtp: {
    password: 'password_env or password_file',
    user: 'username',
  },
  mail: {
    email: 'to',
    sendmail_program: 'sendmail',
    body_template: 'body_file',
  },
  notifier: {
    command: 'exec',
    email: 'mail',
    alertmanagers: 'alertmanager',
    prometheus: 'alertmanager',
    http: 'webhook',
    url: 'webhook: { url: …, secret_env: … }',
    slack: 'webhook',
  },
  alertmanager: {
    annotations: 'labels',
    api: 'url',
  },
  webhook: {
    secret: 'secret_env',
    token: 'secret_env',
    hmac: 'secret_env',
    endpoint: 'url',
  },
  // A hub file: Prometheus' words for the same things.
  'hub-file': {
    targets: 'agents',
    hosts: 'agents',
    static_configs: 'agents',
    file_sd_configs: 'file_sd',
    settings: 'hub',
  },
  'hub-settings': {
    scrape_interval: 'interval',
    scrape_timeout: 'timeout',
    parallelism: 'concurrency',
  },
  agent: {
    password: 'password_env',
    user: 'username',
    address: 'url',
    target: 'url',
    host: 'name',
    ca: 'ca_file',
    tags: 'labels',
  },
};

/** The nearest candidate within a small edit distance, or undefined. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const allowed = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  if (bestDistance <= allowed) return best;
  // An abbreviation: "mem" for "memory".
  return word.length >= 3 ? [...candidates].find((c) => c.toLowerCase().startsWith(lower)) : undefined;
}

/** What to suggest for an unexpected key at a place: a hint for a known word, or the nearest allowed key. */
export function suggestKey(place: string, key: string, allowed: readonly string[]): string | undefined {
  // Own keys only: a key such as "constructor" must not find Object.prototype's.
  const hints = new Map(Object.entries(Object.hasOwn(KEY_HINTS, place) ? KEY_HINTS[place]! : {}));
  const hinted = hints.get(key.toLowerCase());
  if (hinted !== undefined) return hinted;
  const candidate = nearest(key, [...allowed, ...hints.keys()]);
  if (candidate === undefined) return undefined;
  return hints.get(candidate) ?? candidate;
}

export function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
}
