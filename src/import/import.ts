// Turns the configuration of the tools procguard replaces into equivalent policy YAML:
// memmon's command line and oom_adjust.sh's oom_adjust.conf.

import { stringify } from 'yaml';
import { MEMMON_DEFAULT_SENDMAIL, type MemmonOptions } from './memmon-options.js';

/** The notifier an imported memmon -m becomes. */
export const MEMMON_NOTIFIER = 'memmon-mail';

/**
 * memmon's own mail, word for word, as templates: a migration mails what memmon mailed. memmon
 * died on a failed restart, so its failure mail is worded after its own but says what failed.
 */
export const MEMMON_SUBJECT = 'memmon{{#if name}} [{{name}}]{{/if}}: {{#if (eq status "failed")}}failed to restart process {{target.namespec}}{{else}}process {{target.namespec}} restarted{{/if}}';
export const MEMMON_BODY =
  '{{#if (eq status "failed")}}Failed to restart process {{target.namespec}} (RSS {{rss}}): {{result}}{{else}}memmon.py restarted the process named {{target.namespec}} at {{time}} because it was consuming too much memory ({{rss}} bytes RSS){{/if}}';

export function memmonPolicies(options: MemmonOptions, argv: readonly string[]): string {
  const names = new PolicyNames();
  const { written } = options;
  const uptime = written.uptime !== undefined ? inUnits(written.uptime, 'lower') : options.uptime;
  const notify = options.email !== undefined ? [{ to: MEMMON_NOTIFIER, ...(uptime !== undefined ? { uptime_at_most: uptime } : {}) }] : undefined;
  const policy = (label: string, origin: string, match: Record<string, string>, size: string): Record<string, unknown> => ({
    name: names.take(`memmon-${label}`),
    kind: 'memory',
    description: `memmon ${origin}`,
    match,
    max_rss: inUnits(size, 'upper'),
    ...(options.cumulative ? { scope: 'tree' } : {}),
    action: 'restart',
    ...(notify ? { notify } : {}),
  });
  const policies = [
    ...[...written.programs].map(([name, size]) => policy(`program-${name}`, `-p ${name}=${size}`, { program: escapeGlob(name) }, size)),
    ...[...written.groups].map(([name, size]) => policy(`group-${name}`, `-g ${name}=${size}`, { group: escapeGlob(name) }, size)),
    ...(written.any !== undefined ? [policy('any', `-a ${written.any}`, { program: '*' }, written.any)] : []),
  ];
  const document: Record<string, unknown> = {};
  if (options.name !== undefined) document.settings = { name: options.name };
  if (options.email !== undefined) {
    document.notifiers = {
      [MEMMON_NOTIFIER]: {
        mail: { to: [options.email], ...(options.sendmail !== MEMMON_DEFAULT_SENDMAIL ? { sendmail: ['/bin/sh', '-c', options.sendmail] } : {}), subject: MEMMON_SUBJECT, body: MEMMON_BODY },
      },
    };
  }
  document.policies = policies;
  const header = [
    `# Imported from: memmon ${argv.map(shellWord).join(' ')}`,
    '# Sizes and the uptime keep the units memmon was given; both count KB/MB/GB as 1024-based. Like memmon,',
    '# procguard finds supervisord through SUPERVISOR_SERVER_URL (and SUPERVISOR_USERNAME,',
    '# SUPERVISOR_PASSWORD) when no supervisors are configured.',
  ];
  if (options.email !== undefined) header.push("# The mail subject and body are memmon's own words, so mail filters keep working.");
  if (options.email !== undefined && options.sendmail !== MEMMON_DEFAULT_SENDMAIL) header.push('# -s runs through /bin/sh -c with the message on its stdin and nothing added, as memmon ran it.');
  if (options.email === undefined && options.sendmail !== MEMMON_DEFAULT_SENDMAIL) header.push('# -s is ignored without -m, as memmon ignores it.');
  if (policies.length === 0) header.push('# memmon was given no -p, -g or -a: it watched nothing, and neither do these policies.');
  return `${header.join('\n')}\n${stringify(document, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

export class OomAdjustError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * oom_adjust.conf: `NAME ADJ` per line on the legacy -17..15 scale. Like the script, lines
 * starting with `#`, a space or a tab are ignored, and so are blank lines. The comment
 * above an entry becomes its description.
 */
export function oomAdjustPolicies(text: string, path: string): string {
  const names = new PolicyNames();
  const policies: Record<string, unknown>[] = [];
  let comment: string[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index + 1;
    if (raw === '' || /^[ \t]/.test(raw)) {
      if (raw.trim() === '') comment = [];
      continue;
    }
    if (raw.startsWith('#')) {
      comment.push(raw.replace(/^#+\s*/, ''));
      continue;
    }
    const words = raw.trim().split(/\s+/);
    if (words.length !== 2) throw new OomAdjustError(line, `expected "NAME ADJ" (e.g. "sshd -17"), found ${JSON.stringify(raw)}`);
    const [listed = '', adj = ''] = words;
    // "php-fpm:" is the first word of a process title ("php-fpm: master process (…)"), which
    // pidof matched; the kernel's process name (comm) is the executable's, without the colon.
    const name = listed.replace(/:+$/, '') || listed;
    const titleNote =
      name !== listed
        ? ` (oom_adjust.conf says "${listed}", the start of its process title; procguard matches the process name ${name}, which is the executable's: a versioned binary such as ${name}8.2 has that name, see procguard snapshot)`
        : '';
    if (!/^-?\d+$/.test(adj) || Number(adj) < -17 || Number(adj) > 15) {
      throw new OomAdjustError(line, `the oom_adj of ${listed} must be a whole number from -17 to 15, not ${JSON.stringify(adj)}`);
    }
    policies.push({
      name: names.take(`oom-${name}`),
      kind: 'oom',
      description: (comment.length > 0 ? comment.join(' ') : `oom_adjust.conf line ${line}`) + titleNote,
      match: { name },
      oom_adj: Number(adj),
    });
    comment = [];
  }
  const header = [
    `# Imported from oom_adjust.conf: ${path}`,
    '# oom_adj is the legacy -17..15 scale; procguard writes oom_score_adj, converted as the kernel does.',
    '# Processes are matched by name as pidof does, and new ones are caught on the next cycle.',
  ];
  if (policies.length === 0) header.push('# The file lists no process.');
  return `${header.join('\n')}\n${stringify({ policies }, { lineWidth: 0 })}`;
}

/** Policy names are [a-z0-9][a-z0-9._-]* and unique. */
class PolicyNames {
  private readonly used = new Set<string>();
  take(wanted: string): string {
    const base =
      wanted
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/^[^a-z0-9]+/, '')
        .replace(/-+$/, '') || 'imported';
    let name = base;
    for (let n = 2; this.used.has(name); n += 1) name = `${base}-${n}`;
    this.used.add(name);
    return name;
  }
}

/**
 * A memmon size or uptime as written ("200MB", "1d", "3600"; the parser has accepted it) in
 * procguard's spelling: a bare number stays a number, a unit keeps its value and letters.
 */
function inUnits(text: string, unitCase: 'upper' | 'lower'): string | number {
  const [, digits = '', unit = ''] = /^(\d+)([a-z]*)$/i.exec(text) ?? [];
  if (unit === '') return Number(digits);
  return `${Number(digits)}${unitCase === 'upper' ? unit.toUpperCase() : unit.toLowerCase()}`;
}

/** memmon compares names literally; in a procguard glob, *, ? and [ must be escaped. */
function escapeGlob(name: string): string {
  return name.replace(/[*?[]/g, '[$&]');
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
