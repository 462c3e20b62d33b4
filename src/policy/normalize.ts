// Turns schema-valid, cross-checked files into the normalized PolicySet: units to bytes
// and seconds, defaults applied, patterns compiled. Only called on a set without errors.

import {
  compilePattern,
  nameRegexSource,
  DEFAULTS,
  type HostSelector,
  type Inventory,
  type MailTransport,
  type Matcher,
  type NamePattern,
  type NotifierConfig,
  type NotifyRule,
  type Policy,
  type PolicyBase,
  type PolicySet,
  type SecretSource,
  type Settings,
  type SourceRef,
  type SupervisorConfig,
  type SupervisorEndpoint,
} from './model.js';
import type * as Raw from './policy-file.generated.js';
import { labelText } from './hosts.js';
import { kindOf } from './kinds/index.js';
import { durationAt } from './unit-values.js';
import type { Data } from './walk.js';
import { locate, type ParsedFile, type PathSegment } from './yaml-source.js';

export function normalizePolicySet(files: readonly ParsedFile[]): PolicySet {
  const settings: Settings = { interval: DEFAULTS.interval, stateDir: DEFAULTS.stateDir };
  const supervisors: SupervisorConfig[] = [];
  const notifiers: NotifierConfig[] = [];
  const policies: Policy[] = [];
  const inventory: Inventory = {};

  for (const file of files) {
    const data = (file.data ?? {}) as Raw.PolicyFile;
    const source = (path: PathSegment[], target: 'key' | 'value' = 'value'): SourceRef => ({
      file: file.path,
      ...locate(file, path, target),
    });
    if (data.settings?.name !== undefined) settings.name = data.settings.name;
    if (data.settings?.interval !== undefined) settings.interval = durationAt(data.settings as Data, 'interval') as number;
    if (data.settings?.state_dir !== undefined) settings.stateDir = data.settings.state_dir;
    if (data.settings?.labels !== undefined) settings.labels = labelText(data.settings.labels);
    for (const [host, entry] of Object.entries(data.inventory ?? {})) inventory[host] = { labels: labelText(entry.labels) };
    for (const [name, raw] of Object.entries(data.supervisors ?? {})) {
      supervisors.push(normalizeSupervisor(name, raw, source(['supervisors', name], 'key')));
    }
    for (const [name, raw] of Object.entries(data.notifiers ?? {})) {
      const body = raw.mail?.body_file === undefined ? raw.mail?.body : templateText(file, raw.mail.body_file);
      notifiers.push(normalizeNotifier(name, raw, body, source(['notifiers', name], 'key')));
    }
    (data.policies ?? []).forEach((raw, index) => {
      policies.push(normalizePolicy(raw, policies.length, source(['policies', index])));
    });
  }
  return { files: files.map((f) => f.path), settings, supervisors, notifiers, policies, ...(Object.keys(inventory).length > 0 ? { inventory } : {}) };
}

function normalizeSupervisor(name: string, raw: Raw.Supervisor, source: SourceRef): SupervisorConfig {
  const password = secretSource(raw);
  return {
    name,
    url: raw.url,
    endpoint: supervisorEndpoint(raw.url),
    ...(raw.username !== undefined ? { username: raw.username } : {}),
    ...(password ? { password } : {}),
    ...(raw.user !== undefined ? { user: String(raw.user) } : {}),
    timeout: durationAt(raw as unknown as Data, 'timeout') ?? DEFAULTS.supervisorTimeout,
    source,
    ...hostSelector(raw.hosts),
  };
}

/** unix:///run/supervisor.sock → the socket path; http://host:port → http://host:port/RPC2. */
export function supervisorEndpoint(url: string): SupervisorEndpoint {
  if (url.startsWith('unix://')) return { transport: 'unix', socketPath: url.slice('unix://'.length) };
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/RPC2';
  return { transport: 'http', url: parsed.toString() };
}

function normalizeNotifier(name: string, raw: Raw.Notifier, body: string | undefined, source: SourceRef): NotifierConfig {
  const timeout = durationAt(raw as unknown as Data, 'timeout') ?? DEFAULTS.notifierTimeout;
  if (raw.exec) {
    const env = Object.fromEntries(Object.entries(raw.env ?? {}).map(([key, value]) => [key, typeof value === 'string' ? { value } : { fromEnv: value.from_env }]));
    return { type: 'exec', name, argv: [...raw.exec], env, timeout, source, ...hostSelector(raw.hosts) };
  }
  if (raw.alertmanager) return { type: 'alertmanager', name, url: raw.alertmanager.url, labels: { ...(raw.alertmanager.labels ?? {}) }, timeout, source, ...hostSelector(raw.hosts) };
  if (raw.webhook) return { type: 'webhook', name, url: raw.webhook.url, secretEnv: raw.webhook.secret_env, timeout, source, ...hostSelector(raw.hosts) };
  const mail = raw.mail as Raw.Mail;
  const command: string | string[] = mail.sendmail ?? DEFAULTS.sendmail;
  return {
    type: 'mail',
    name,
    to: typeof mail.to === 'string' ? [mail.to] : [...mail.to],
    ...(mail.from !== undefined ? { from: mail.from } : {}),
    transport: mail.smtp === undefined ? sendmailTransport(command) : smtpTransport(mail.smtp),
    ...(mail.subject !== undefined ? { subject: mail.subject } : {}),
    ...(body !== undefined ? { body } : {}),
    timeout,
    source,
    ...hostSelector(raw.hosts),
  };
}

function smtpTransport(raw: Raw.SmtpTransport): Extract<MailTransport, { type: 'smtp' }> {
  if (typeof raw === 'string') return { type: 'smtp', url: raw };
  const password = secretSource(raw);
  return {
    type: 'smtp',
    url: raw.url,
    ...(raw.username !== undefined ? { username: raw.username } : {}),
    ...(password ? { password } : {}),
  };
}

function secretSource(raw: { password_env?: string; password_file?: string }): SecretSource | undefined {
  if (raw.password_env !== undefined) return { env: raw.password_env };
  if (raw.password_file !== undefined) return { file: raw.password_file };
  return undefined;
}

function normalizePolicy(raw: Raw.Policy, order: number, source: SourceRef): Policy {
  const base: PolicyBase = {
    name: raw.name as string,
    ...(raw.description !== undefined ? { description: raw.description as string } : {}),
    mode: (raw.mode as PolicyBase['mode'] | undefined) ?? DEFAULTS.mode,
    match: normalizeMatch(raw.match as Raw.Match),
    notify: ((raw.notify as Raw.NotifyRules | undefined) ?? []).map(normalizeNotifyRule),
    order,
    source,
    ...hostSelector(raw.hosts as Raw.HostSelector | undefined),
  };
  return kindOf(raw.kind).normalize(raw as unknown as Data, base) as Policy;
}

function hostSelector(raw: Raw.HostSelector | undefined): { hosts?: HostSelector } {
  if (raw === undefined) return {};
  return { hosts: { ...(raw.names !== undefined ? { names: [...raw.names] } : {}), ...(raw.labels !== undefined ? { labels: labelText(raw.labels) } : {}) } };
}

function normalizeMatch(raw: Raw.Match): Matcher {
  const matcher: Matcher = {};
  if (raw.program !== undefined) matcher.program = list(raw.program);
  if (raw.group !== undefined) matcher.group = list(raw.group);
  if (raw.supervisor !== undefined) matcher.supervisor = list(raw.supervisor);
  if (raw.name !== undefined) matcher.name = list(raw.name).map(namePattern);
  if (raw.cmdline !== undefined) matcher.cmdline = list(raw.cmdline).map(compilePattern);
  if (raw.exe !== undefined) matcher.exe = list(raw.exe).map(namePattern);
  if (raw.user !== undefined) matcher.user = list(raw.user).map((u) => (typeof u === 'string' && /^\d+$/.test(u) ? Number(u) : u));
  if (raw.pidfile !== undefined) matcher.pidfile = list(raw.pidfile);
  if (raw.exclude !== undefined) matcher.exclude = normalizeMatch(raw.exclude);
  return matcher;
}

function namePattern(text: string): NamePattern {
  const source = nameRegexSource(text);
  return source === undefined ? { exact: text } : { regex: compilePattern(source) };
}

function normalizeNotifyRule(raw: Raw.NotifyRule): NotifyRule {
  const uptimeAtMost = durationAt(raw as unknown as Data, 'uptime_at_most');
  return { to: raw.to, ...(uptimeAtMost !== undefined ? { uptimeAtMost } : {}) };
}

function templateText(file: ParsedFile, bodyFile: string): string | undefined {
  const loaded = file.templates.get(bodyFile);
  return loaded && 'text' in loaded ? loaded.text : undefined;
}

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? [...value] : [value];
}

/** A command line is split at spaces and gets -i and the recipients; a list is the argv exactly, with nothing added (memmon's -s, through /bin/sh -c). */
function sendmailTransport(command: string | readonly string[]): MailTransport {
  if (typeof command === 'string') return { type: 'sendmail', command, argv: command.trim().split(/\s+/) };
  return { type: 'sendmail', command: command.join(' '), argv: [...command], shell: true };
}
