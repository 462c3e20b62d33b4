// The audit log STATE_DIR/audit.log: one JSON line per executed action and per notification
// sent or failed, appended; bounded by rotating to audit.log.1, .2, … once it passes a size.
// Every append opens the file afresh with O_APPEND, so logrotate may rename it (a new one is
// created) or truncate it in place (copytruncate) at any time. Read back across the rotated
// files (numbered, gzipped or not), oldest first, for `procguard history` and `status`.

import { constants } from 'node:fs';
import { appendFile, open, readdir, rename, stat } from 'node:fs/promises';
import { makeDirectory } from './directory.js';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { AuditEntry } from '../data/types.js';

export const AUDIT_LOG_FILE = 'audit.log';
/** 5 MiB, about 20,000 entries… */
export const AUDIT_LOG_MAX_BYTES = 5 * 1024 * 1024;
/** …and this many older files are kept: audit.log.1 (the newest) to audit.log.3. */
export const AUDIT_LOG_GENERATIONS = 3;
/** A bad file (not one procguard wrote) is reported by this many of its lines, then counted. */
const MAX_LINE_WARNINGS = 10;

export async function appendAudit(dir: string, entries: readonly AuditEntry[], maxBytes = AUDIT_LOG_MAX_BYTES): Promise<void> {
  if (entries.length === 0) return;
  await makeDirectory(dir);
  const path = join(dir, AUDIT_LOG_FILE);
  const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (size > 0 && size + Buffer.byteLength(text) > maxBytes) await rotate(path);
  // O_NOFOLLOW: a link planted in the state directory must not make root append elsewhere.
  await appendFile(path, text, { mode: 0o600, flag: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW });
}

/** audit.log.2 → .3 (the oldest is dropped), .1 → .2, audit.log → .1. Renames replace links, never follow them. */
async function rotate(path: string): Promise<void> {
  for (let n = AUDIT_LOG_GENERATIONS; n > 1; n -= 1) {
    await rename(`${path}.${n - 1}`, `${path}.${n}`).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  await rename(path, `${path}.1`);
}

export interface AuditRead {
  /** Oldest first, across the rotated files. */
  entries: AuditEntry[];
  /** FILE:LINE: what was wrong, for each line skipped; a file that cannot be read. */
  warnings: string[];
  /** The files read, oldest first. */
  files: string[];
}

/** audit.log.3 … audit.log.1, audit.log (each also as NAME.gz, as logrotate's compress leaves it): the oldest first. */
export async function auditLogFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const generation = (name: string): number | undefined => {
    const m = /^audit\.log(?:\.(\d{1,4}))?(?:\.gz)?$/.exec(name);
    return m ? Number(m[1] ?? 0) : undefined;
  };
  return names
    .filter((name) => generation(name) !== undefined)
    .sort((a, b) => generation(b)! - generation(a)! || (a.endsWith('.gz') ? -1 : 1))
    .map((name) => join(dir, name));
}

/** Every entry of the audit log of `dir`. A line that is not an entry is skipped with a warning naming FILE:LINE; a missing log has no entries. */
export async function readAuditLog(dir: string): Promise<AuditRead> {
  const files = await auditLogFiles(dir);
  const entries: AuditEntry[] = [];
  const warnings: string[] = [];
  let skipped = 0;
  for (const file of files) {
    let stream: Readable;
    try {
      stream = await openLog(file);
    } catch (error) {
      warnings.push(`${file}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      continue;
    }
    let line = 0;
    try {
      for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
        line += 1;
        if (text.trim() === '') continue;
        const problem = entryProblem(text);
        if (typeof problem !== 'string') {
          entries.push(problem);
          continue;
        }
        skipped += 1;
        if (skipped <= MAX_LINE_WARNINGS) warnings.push(`${file}:${line}: skipped: ${problem}`);
      }
    } catch (error) {
      warnings.push(`${file}:${line + 1}: the rest of the file cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (skipped > MAX_LINE_WARNINGS) warnings.push(`${skipped - MAX_LINE_WARNINGS} more lines of the audit log skipped`);
  return { entries, warnings, files };
}

/** Not followed if a link, not waited on if a FIFO; gunzipped when the name says so. */
async function openLog(file: string): Promise<Readable> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw new Error('not a regular file');
  }
  const stream = handle.createReadStream();
  return file.endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
}

/** The entry a line holds, or what is wrong with it. */
function entryProblem(text: string): AuditEntry | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'not a JSON object';
  const entry = data as Record<string, unknown>;
  if (typeof entry.time !== 'number' || !Number.isFinite(entry.time)) return 'no "time" (epoch seconds)';
  if (typeof entry.policy !== 'string') return 'no "policy"';
  if (entry.type !== 'action' && entry.type !== 'notification') return '"type" is neither action nor notification';
  if (typeof entry.status !== 'string') return 'no "status"';
  const target = entry.target as Record<string, unknown> | undefined;
  if (target !== undefined && (typeof target !== 'object' || target === null || typeof target.pid !== 'number' || typeof target.name !== 'string')) return '"target" has no pid and name';
  return data as AuditEntry;
}
