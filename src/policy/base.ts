// What every policy kind shares, normalized: bytes and seconds, defaults applied, regexes
// compiled, every policy with its file order and source position.

import type { Position } from './diagnostics.js';
import { compileBoundedPattern, type Pattern } from './pattern.js';

export const DEFAULTS = {
  interval: 60,
  stateDir: '/var/lib/procguard',
  supervisorTimeout: 10,
  notifierTimeout: 30,
  sendmail: '/usr/sbin/sendmail -t -i',
  mode: 'enforce',
  /** Seconds an apply, resume or daemon cycle waits for another's state lock. */
  lockWait: 30,
} as const;

export interface SourceRef extends Position {
  file: string;
}

export interface Settings {
  /** Tag in mail subjects (memmon -n). */
  name?: string;
  interval: number;
  stateDir: string;
  /** This host's labels (host-local), over the inventory's. */
  labels?: Record<string, string>;
}

/** `hosts:` of a policy, notifier or supervisor: the hosts it is for (hosts.ts). */
export interface HostSelector {
  /** Hostname globs (* ? [abc]); the host is selected when any matches. */
  names?: string[];
  /** Labels the host must all carry, values as text. */
  labels?: Record<string, string>;
}

/** The inventory's hosts by hostname, each with its labels. */
export type Inventory = Record<string, { labels: Record<string, string> }>;

export type SupervisorEndpoint = { transport: 'unix'; socketPath: string } | { transport: 'http'; url: string };

export type SecretSource = { env: string } | { file: string };

export interface SupervisorConfig {
  name: string;
  /** As written, for messages; never holds a password (one in SUPERVISOR_SERVER_URL is shown as ***). */
  url: string;
  endpoint: SupervisorEndpoint;
  username?: string;
  /** A secret, or (SUPERVISOR_SERVER_URL) the password part of the URL held in an environment variable. */
  password?: SecretSource | { urlEnv: string };
  /** Whom the listening socket may belong to besides root and procguard's own user: a user name or numeric uid. */
  user?: string;
  timeout: number;
  source: SourceRef;
  hosts?: HostSelector;
  /** Why it cannot be used as given (conflicting credentials): reported instead of connecting. */
  problem?: string;
}

export type MailTransport =
  | {
      type: 'sendmail';
      command: string;
      argv: string[];
      /** Nothing is added to argv (procguard memmon -s's `/bin/sh -c command`, or `sendmail:` given as a list): the recipients are in To:. */ shell?: boolean;
    }
  | { type: 'smtp'; url: string; username?: string; password?: SecretSource };

export interface MailNotifier {
  type: 'mail';
  name: string;
  to: string[];
  from?: string;
  transport: MailTransport;
  subject?: string;
  body?: string;
  timeout: number;
  source: SourceRef;
  hosts?: HostSelector;
}

/** A variable an exec notifier's command gets: a value, or one of procguard's own variables under that name. */
export type ChildVariable = { value: string } | { fromEnv: string };

export interface ExecNotifier {
  type: 'exec';
  name: string;
  argv: string[];
  /** NAME → what the command gets besides the minimal environment. */
  env?: Record<string, ChildVariable>;
  timeout: number;
  source: SourceRef;
  hosts?: HostSelector;
}

/** Alerts to Alertmanager's v2 API. */
export interface AlertmanagerNotifier {
  type: 'alertmanager';
  name: string;
  /** Alertmanager's base URL; /api/v2/alerts is added. */
  url: string;
  /** Labels added to every alert. */
  labels: Record<string, string>;
  timeout: number;
  source: SourceRef;
  hosts?: HostSelector;
}

/** The event as signed JSON, POSTed to a URL. */
export interface WebhookNotifier {
  type: 'webhook';
  name: string;
  url: string;
  /** The variable of procguard's environment that holds the signing secret. */
  secretEnv: string;
  timeout: number;
  source: SourceRef;
  hosts?: HostSelector;
}

export type NotifierConfig = MailNotifier | ExecNotifier | AlertmanagerNotifier | WebhookNotifier;

export type NamePattern = { exact: string } | { regex: Pattern };

export interface Matcher {
  program?: string[];
  group?: string[];
  supervisor?: string[];
  name?: NamePattern[];
  cmdline?: Pattern[];
  /** The resolved /proc/PID/exe path: exact or /regex/, as name. */
  exe?: NamePattern[];
  user?: Array<string | number>;
  pidfile?: string[];
  exclude?: Matcher;
}

export interface NotifyRule {
  to: string;
  /** Seconds; notify only when the target's uptime is at most this. */
  uptimeAtMost?: number;
}

export type Action =
  | { type: 'restart' }
  | { type: 'stop' }
  | { type: 'kill' }
  /** Signal name without the SIG prefix: HUP, USR1. */
  | { type: 'signal'; signal: string };

export interface MaxActions {
  count: number;
  /** Seconds. */
  within: number;
}

export type PolicyMode = 'enforce' | 'audit';

export interface PolicyBase {
  name: string;
  description?: string;
  mode: PolicyMode;
  match: Matcher;
  notify: NotifyRule[];
  /** Position in file order across the whole set, from 0: the first policy wins conflicts. */
  order: number;
  source: SourceRef;
  /** The hosts it is for; none: every host. */
  hosts?: HostSelector;
}

/** The kernel's conversion of the legacy oom_adj scale (-17..15) to oom_score_adj (-1000..1000). */
export function oomAdjToScoreAdj(oomAdj: number): number {
  if (oomAdj === 15) return 1000;
  return Math.trunc((oomAdj * 1000) / 17);
}

/** A match.name written as /regex/ is a pattern on the process name: its source, else undefined (an exact name). */
export function nameRegexSource(text: string): string | undefined {
  return text.length > 2 && text.startsWith('/') && text.endsWith('/') ? text.slice(1, -1) : undefined;
}

/** How match.name /regex/ and match.cmdline patterns are compiled: JavaScript syntax, case-sensitive, bounded in time (pattern.ts). */
export function compilePattern(pattern: string): Pattern {
  return compileBoundedPattern(pattern);
}
