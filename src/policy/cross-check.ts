// Checks the schema cannot make: across files (unique names, settings set once,
// references to notifiers and supervisors) and inside values (regexes, templates, durations
// that must be positive); each policy's kind adds its own (src/policy/kinds). Pure: the loader
// has read everything.

import { errorText } from '../shared/errors.js';
import { diagnostic, type Diagnostic, type DiagnosticCode, type Severity } from './diagnostics.js';
import { plural, show } from '../shared/text.js';
import { didYouMean, nearest } from './suggest.js';
import { compilePattern, nameRegexSource } from './model.js';
import { NonLinearPatternError } from './pattern.js';
import { checkHostSelectors } from './host-checks.js';
import { checkProtections } from './protection-checks.js';
import { checkTemplate } from './templates.js';
import { KINDS } from './kinds/index.js';
import type { Report } from './kinds/kind.js';
import { durationAt } from './unit-values.js';
import { isRecord, matchBlocks, namedSection, policyEntries, policyLabel, stringItems, type Entry } from './walk.js';
import { isLocalMailName } from './schema.js';
import { locate, type ParsedFile, type PathSegment } from './yaml-source.js';

export function crossCheck(files: readonly ParsedFile[]): Diagnostic[] {
  const report = new Reporter();
  checkSettings(files, report);
  checkPositiveDurations(files, report);
  checkSupervisorUrls(files, report);
  checkUniqueNames(files, report);
  checkReferences(files, report);
  checkSupervisorNeeded(files, report);
  const policies = policyEntries(files);
  for (const policy of policies) checkPolicyValues(policy, report);
  checkTemplates(files, report);
  report.diagnostics.push(...checkHostSelectors(files));
  report.diagnostics.push(...checkProtections(policies));
  for (const kind of KINDS.values())
    kind.checkSet?.(
      policies.filter((p) => p.value.kind === kind.kind),
      policies,
      report,
    );
  return report.diagnostics;
}

class Reporter implements Report {
  readonly diagnostics: Diagnostic[] = [];

  add(file: ParsedFile, path: PathSegment[], severity: Severity, code: DiagnosticCode, message: string, target: 'key' | 'value' = 'value'): void {
    this.diagnostics.push(diagnostic(file.path, locate(file, path, target), severity, code, message));
  }

  where(file: ParsedFile, path: PathSegment[], target: 'key' | 'value' = 'value'): string {
    const { line, column } = locate(file, path, target);
    return `${file.path}:${line}:${column}`;
  }
}

function checkSettings(files: readonly ParsedFile[], report: Reporter): void {
  const firstSetter = new Map<string, ParsedFile>();
  for (const file of files) {
    const settings = isRecord(file.data) ? file.data.settings : undefined;
    if (!isRecord(settings)) continue;
    for (const key of Object.keys(settings)) {
      const first = firstSetter.get(key);
      if (!first) {
        firstSetter.set(key, file);
        continue;
      }
      const path = ['settings', key];
      report.add(file, path, 'error', 'duplicate-setting', `settings.${key} is already set at ${report.where(first, path, 'key')}; set each setting in one file only`, 'key');
      report.add(first, path, 'error', 'duplicate-setting', `settings.${key} is set again at ${report.where(file, path, 'key')}; set each setting in one file only`, 'key');
    }
  }
}

/** Durations where 0 would mean a busy loop or an instant failure. */
const POSITIVE_DURATIONS: ReadonlyArray<{ section: 'settings' | 'supervisors' | 'notifiers'; key: string; what: string }> = [
  { section: 'settings', key: 'interval', what: 'the daemon would tick without pause' },
  { section: 'supervisors', key: 'timeout', what: 'every request would time out' },
  { section: 'notifiers', key: 'timeout', what: 'every delivery would time out' },
];

function checkPositiveDurations(files: readonly ParsedFile[], report: Reporter): void {
  for (const { section, key, what } of POSITIVE_DURATIONS) {
    const entries =
      section === 'settings'
        ? files.flatMap((file) => (isRecord(file.data) && isRecord(file.data.settings) ? [{ file, path: ['settings'], value: file.data.settings, label: 'settings' }] : []))
        : namedSection(files, section).map((entry) => ({ ...entry, label: `${section.slice(0, -1)} "${entry.name}"` }));
    for (const entry of entries) {
      if (key in entry.value && durationAt(entry.value, key) === 0) {
        report.add(entry.file, [...entry.path, key], 'error', 'invalid-value', `"${key}" in ${entry.label} must be longer than 0s, or ${what}`);
      }
    }
  }
}

/** A URL the schema's pattern lets through but the URL parser refuses (a zone id, a port past 65535, a hex port). */
function checkSupervisorUrls(files: readonly ParsedFile[], report: Reporter): void {
  for (const entry of namedSection(files, 'supervisors')) {
    const url = entry.value.url;
    if (typeof url === 'string' && /^https?:\/\//.test(url) && !URL.canParse(url)) {
      report.add(
        entry.file,
        [...entry.path, 'url'],
        'error',
        'invalid-value',
        `The url of supervisor "${entry.name}" is not a URL that can be connected to: ${JSON.stringify(url)} (use http://host:port with a port up to 65535, without a zone id)`,
      );
    }
  }
}

function checkUniqueNames(files: readonly ParsedFile[], report: Reporter): void {
  const definitions: Array<{ what: string; name: string; file: ParsedFile; path: PathSegment[]; target: 'key' | 'value' }> = [];
  for (const section of ['supervisors', 'notifiers'] as const) {
    for (const entry of namedSection(files, section)) {
      definitions.push({ what: section.slice(0, -1), name: entry.name, file: entry.file, path: entry.path, target: 'key' });
    }
  }
  for (const policy of policyEntries(files)) {
    const name = policy.value.name;
    if (typeof name === 'string') definitions.push({ what: 'policy', name, file: policy.file, path: [...policy.path, 'name'], target: 'value' });
  }
  const first = new Map<string, (typeof definitions)[number]>();
  for (const definition of definitions) {
    const key = `${definition.what}\0${definition.name}`;
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, definition);
      continue;
    }
    const label = `${definition.what} name "${definition.name}"`;
    report.add(definition.file, definition.path, 'error', 'duplicate-name', `Duplicate ${label}: first defined at ${report.where(earlier.file, earlier.path, earlier.target)}`, definition.target);
    report.add(earlier.file, earlier.path, 'error', 'duplicate-name', `Duplicate ${label}: defined again at ${report.where(definition.file, definition.path, definition.target)}`, earlier.target);
  }
}

function checkReferences(files: readonly ParsedFile[], report: Reporter): void {
  const notifiers = namedSection(files, 'notifiers').map((n) => n.name);
  const supervisors = namedSection(files, 'supervisors').map((s) => s.name);
  const used = new Set<string>();
  for (const policy of policyEntries(files)) {
    const notify = policy.value.notify;
    if (Array.isArray(notify)) {
      notify.forEach((rule, index) => {
        const to = isRecord(rule) ? rule.to : undefined;
        if (typeof to !== 'string') return;
        used.add(to);
        if (notifiers.includes(to)) return;
        const known = notifiers.length === 0 ? 'no notifiers are defined' : `defined notifiers: ${notifiers.join(', ')}`;
        report.add(
          policy.file,
          [...policy.path, 'notify', index, 'to'],
          'error',
          'unknown-reference',
          `Unknown notifier "${to}" in notify of ${policyLabel(policy)}${didYouMean(nearest(to, notifiers))} (${known})`,
        );
      });
    }
    for (const block of matchBlocks(policy)) {
      for (const [name, path] of stringItems(block.value.supervisor, [...block.path, 'supervisor'])) {
        if (supervisors.includes(name)) continue;
        const known = supervisors.length === 0 ? 'no supervisors are configured, so procguard uses SUPERVISOR_SERVER_URL' : `configured supervisors: ${supervisors.join(', ')}`;
        report.add(policy.file, path, 'error', 'unknown-reference', `Unknown supervisor "${name}" in match of ${policyLabel(policy)}${didYouMean(nearest(name, supervisors))} (${known})`);
      }
    }
  }
  for (const notifier of namedSection(files, 'notifiers')) {
    if (!used.has(notifier.name)) {
      report.add(notifier.file, notifier.path, 'warning', 'unused', `Notifier "${notifier.name}" is not used by any policy`, 'key');
    }
  }
}

/** The match keys that select supervisord programs (match.supervisor naming none configured is an error of its own). */
const PROGRAM_KEYS = ['program', 'group'] as const;

/**
 * Policies that match supervisord programs in a configuration without supervisors: one warning,
 * at the first of them, since one `supervisors:` entry (or the environment) answers for all.
 */
function checkSupervisorNeeded(files: readonly ParsedFile[], report: Reporter): void {
  if (namedSection(files, 'supervisors').length > 0) return;
  const selecting = policyEntries(files).flatMap((policy) => {
    for (const block of matchBlocks(policy)) {
      const key = PROGRAM_KEYS.find((k) => block.value[k] !== undefined);
      if (key) return [{ policy, path: [...block.path, key] }];
    }
    return [];
  });
  const first = selecting[0];
  if (!first) return;
  const others = selecting.length > 1 ? ` and ${plural(selecting.length - 1, 'other policy', 'other policies')}` : '';
  report.add(
    first.policy.file,
    first.path,
    'warning',
    'no-supervisor',
    `The ${policyLabel(first.policy)}${others} ${others ? 'match' : 'matches'} supervisord programs but no supervisors are configured: procguard asks the supervisord named by SUPERVISOR_SERVER_URL only when that is set where it runs (e.g. inside supervisord as an event listener, or in cron's environment)`,
    'key',
  );
}

function checkPolicyValues(policy: Entry, report: Reporter): void {
  const { file, value } = policy;
  const label = policyLabel(policy);

  for (const block of matchBlocks(policy)) {
    checkRegexes(block, label, report);
    const selectors = Object.keys(block.value).filter((key) => key !== 'exclude');
    if (selectors.length === 0 && 'exclude' in block.value) {
      report.add(file, block.path, 'error', 'invalid-value', `The match of ${label} has only "exclude": say which processes it applies to before subtracting some`);
    }
  }

  for (const path of POSITIVE_POLICY_DURATIONS) {
    const parent = path.slice(0, -1).reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), value);
    const key = path.at(-1)!;
    if (isRecord(parent) && key in parent && durationAt(parent, key) === 0) {
      report.add(file, [...policy.path, ...path], 'error', 'invalid-value', `"${path.join('.')}" in ${label} must be longer than 0s`);
    }
  }
  const kind = typeof value.kind === 'string' ? KINDS.get(value.kind) : undefined;
  kind?.check?.(policy, label, report);
}

/** Every kind's durations that must not be 0, checked on any policy that has them. */
const POSITIVE_POLICY_DURATIONS: ReadonlyArray<readonly string[]> = [...new Map([...KINDS.values()].flatMap((kind) => kind.positiveDurations ?? []).map((path) => [path.join('.'), path])).values()];

function checkRegexes(block: Entry, label: string, report: Reporter): void {
  const patterns: Array<[string, PathSegment[]]> = [
    ...stringItems(block.value.name, [...block.path, 'name']).flatMap(([text, path]): Array<[string, PathSegment[]]> => {
      const source = nameRegexSource(text);
      return source === undefined ? [] : [[source, path]];
    }),
    ...stringItems(block.value.exe, [...block.path, 'exe']).flatMap(([text, path]): Array<[string, PathSegment[]]> => {
      const source = nameRegexSource(text);
      return source === undefined ? [] : [[source, path]];
    }),
    ...stringItems(block.value.cmdline, [...block.path, 'cmdline']),
  ];
  for (const [pattern, path] of patterns) {
    const problem = regexProblem(pattern);
    if (problem === undefined) continue;
    const message = problem.refused ? `Regular expression ${show(pattern)} in ${label} is refused: ${problem.reason}` : `Invalid regular expression ${show(pattern)} in ${label}: ${problem.reason}`;
    report.add(block.file, path, 'error', 'invalid-regex', message);
  }
}

/** Why a pattern does not compile as the engine compiles it (refused: valid, but not boundable in time), or undefined. */
export function regexProblem(pattern: string): { reason: string; refused: boolean } | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (error) {
    const message = errorText(error);
    return { reason: message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ''), refused: error instanceof NonLinearPatternError };
  }
}

function checkTemplates(files: readonly ParsedFile[], report: Reporter): void {
  for (const notifier of namedSection(files, 'notifiers')) {
    const mail = notifier.value.mail;
    if (!isRecord(mail)) continue;
    const mailPath = [...notifier.path, 'mail'];
    if (typeof mail.smtp === 'string') {
      const recipients = Array.isArray(mail.to) ? mail.to : [mail.to];
      recipients.forEach((to, index) => {
        if (typeof to !== 'string' || !isLocalMailName(to)) return;
        const path = Array.isArray(mail.to) ? [...mailPath, 'to', index] : [...mailPath, 'to'];
        report.add(
          notifier.file,
          path,
          'error',
          'invalid-value',
          `Mail address "${to}" of notifier "${notifier.name}" has no domain: an SMTP server needs user@host (a local name such as root works with sendmail)`,
        );
      });
      if (typeof mail.from === 'string' && isLocalMailName(mail.from)) {
        report.add(notifier.file, [...mailPath, 'from'], 'error', 'invalid-value', `"from" of notifier "${notifier.name}" has no domain: an SMTP server needs user@host`);
      }
    }
    for (const key of ['subject', 'body'] as const) {
      const template = mail[key];
      if (typeof template !== 'string') continue;
      for (const problem of checkTemplate(template)) {
        const inTemplate = template.includes('\n') ? ` (line ${problem.line} of the template)` : '';
        report.add(
          notifier.file,
          [...mailPath, key],
          problem.severity,
          problem.severity === 'error' ? 'template-syntax' : 'template-field',
          `${key} of notifier "${notifier.name}": ${problem.message}${inTemplate}`,
        );
      }
    }
    const bodyFile = mail.body_file;
    if (typeof bodyFile !== 'string') continue;
    const loaded = notifier.file.templates.get(bodyFile);
    if (!loaded || 'error' in loaded) {
      const reason = loaded && 'error' in loaded ? loaded.error : `${bodyFile} was not read`;
      report.add(notifier.file, [...mailPath, 'body_file'], 'error', 'io', `body_file of notifier "${notifier.name}": ${reason}`);
      continue;
    }
    for (const problem of checkTemplate(loaded.text)) {
      report.diagnostics.push(
        diagnostic(
          loaded.path,
          { line: problem.line, column: problem.column },
          problem.severity,
          problem.severity === 'error' ? 'template-syntax' : 'template-field',
          `body_file of notifier "${notifier.name}": ${problem.message}`,
        ),
      );
    }
  }
}
