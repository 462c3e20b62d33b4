// `procguard history [-c …] [--state-dir DIR] [--since D] [--policy P] [--target T] [--json]`:
// the audit log of the state directory (across its rotated files) as a table, newest last.
// Reads only. A line that is not an entry is skipped with a warning naming FILE:LINE.

import type { AuditEntry } from '../data/types.js';
import { readAuditLog } from '../state/audit-log.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { jsonText, printable, table } from '../shared/text.js';
import { DURATION_UNITS_HELP, parseDuration } from '../shared/units.js';
import { CliFailure, loadConfiguration } from './context.js';

export interface HistoryOptions {
  config: string[];
  stateDir?: string;
  since?: string;
  policy?: string;
  target?: string;
  json?: boolean;
}

export async function runHistory(options: HistoryOptions, io: CliIo, now = Date.now() / 1000): Promise<ExitCode> {
  const since = options.since === undefined ? undefined : sinceTime(options.since, now);
  // With --state-dir the configuration is not needed, so a broken one does not hide the log.
  const dir = options.stateDir ?? (await loadConfiguration(options.config, io)).settings.stateDir;
  const read = await readAuditLog(dir);
  for (const warning of read.warnings) io.stderr(`procguard: warning: ${printable(warning)}\n`);
  const entries = read.entries
    .filter((e) => since === undefined || e.time >= since)
    .filter((e) => options.policy === undefined || e.policy === options.policy)
    .filter((e) => options.target === undefined || targetMatches(e, options.target))
    // Files are read oldest first; a stable sort keeps the order of entries of one second.
    .sort((a, b) => a.time - b.time);
  if (options.json) {
    io.stdout(`${jsonText(entries)}\n`);
    return ExitCode.OK;
  }
  if (entries.length === 0) {
    const filtered = since !== undefined || options.policy !== undefined || options.target !== undefined;
    io.stdout(read.files.length === 0 ? `No audit log in ${printable(dir)}: nothing has been carried out there yet.\n` : filtered ? 'No entries match.\n' : 'The audit log is empty.\n');
    return ExitCode.OK;
  }
  const rows = entries.map((e) => [isoTime(e.time), e.policy, actionText(e), targetText(e), e.status, reasonText(e)].map(printable));
  io.stdout(`${table([['WHEN', 'POLICY', 'ACTION', 'TARGET', 'OUTCOME', 'REASON'], ...rows]).join('\n')}\n`);
  return ExitCode.OK;
}

/** --since: a duration back from now (2h, 30m, 1d) or a date (2026-05-01, 2026-05-01T10:00:00Z). */
export function sinceTime(text: string, now: number): number {
  const seconds = parseDuration(text);
  if (seconds !== undefined) return now - seconds;
  const date = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isNaN(date)) return date / 1000;
  throw new CliFailure(`--since "${printable(text)}" is neither a duration (${DURATION_UNITS_HELP}) nor a date (2026-05-01 or 2026-05-01T10:00:00Z)`, ExitCode.INVALID);
}

/** --target: a pid, a namespec (web:web_0, or web:* for a group), or a name (a program's or a process'). */
export function targetMatches(entry: AuditEntry, wanted: string): boolean {
  const target = entry.target;
  if (!target) return false;
  if (/^\d+$/.test(wanted)) return target.pid === Number(wanted);
  const spec = target.namespec;
  if (spec !== undefined) {
    if (spec === wanted) return true;
    if (wanted.endsWith(':*') && spec.startsWith(wanted.slice(0, -1))) return true;
    if (spec.slice(spec.indexOf(':') + 1) === wanted) return true;
  }
  return target.name === wanted;
}

export function isoTime(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

function actionText(e: AuditEntry): string {
  if (e.type === 'notification') return `notify ${e.to ?? '?'}`;
  return e.action ?? '?';
}

function targetText(e: AuditEntry): string {
  if (!e.target) return '-';
  return `${e.target.namespec ?? e.target.name} (pid ${e.target.pid})`;
}

function reasonText(e: AuditEntry): string {
  const why = e.type === 'notification' ? (e.subject ?? e.reason ?? '') : (e.reason ?? '');
  if (e.error !== undefined) return `${why} → ${e.error}`.trim();
  return e.detail !== undefined ? `${why} → ${e.detail}`.trim() : why;
}
