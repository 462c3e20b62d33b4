// The environment of every child procguard starts (sendmail, exec notifiers): a minimal set
// taken from procguard's own (where to find programs, who and where the user is, the locale and
// time zone), never the rest, which holds secrets (SUPERVISOR_PASSWORD, password_env variables,
// PROCGUARD_LISTEN_PASSWORD). An exec notifier adds what its `env:` names.

import type { ChildVariable } from '../policy/model.js';

/** Passed on when procguard has them; LC_* too. */
export const MINIMAL_ENV = ['PATH', 'HOME', 'LANG', 'LANGUAGE', 'TZ', 'USER', 'LOGNAME', 'TMPDIR'] as const;
/** For a procguard started without PATH (some service managers): where sendmail and common commands are. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function minimalEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const child: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if ((MINIMAL_ENV as readonly string[]).includes(name) || /^LC_[A-Z_]+$/.test(name)) child[name] = value;
  }
  child.PATH ??= DEFAULT_PATH;
  return child;
}

/** The minimal set plus the notifier's own variables; a string when a from_env variable is not set. */
export function childEnvironment(env: NodeJS.ProcessEnv, extra: Readonly<Record<string, ChildVariable>> = {}): Record<string, string> | string {
  const child = minimalEnvironment(env);
  for (const [name, variable] of Object.entries(extra)) {
    if ('value' in variable) {
      child[name] = variable.value;
      continue;
    }
    const value = env[variable.fromEnv];
    if (value === undefined) return `the variable ${variable.fromEnv} (for ${name} in env) is not set`;
    child[name] = value;
  }
  return child;
}
