// The audit log STATE_DIR/audit.log: one JSON line per executed action and per notification
// sent or failed, appended; bounded by rotating to audit.log.1 once it passes a size.

import { constants } from 'node:fs';
import { appendFile, rename, stat } from 'node:fs/promises';
import { makeDirectory } from './directory.js';
import { join } from 'node:path';
import type { AuditEntry } from '../data/types.js';

export const AUDIT_LOG_FILE = 'audit.log';
/** 5 MiB, about 20,000 entries; one older generation is kept. */
export const AUDIT_LOG_MAX_BYTES = 5 * 1024 * 1024;

export async function appendAudit(dir: string, entries: readonly AuditEntry[], maxBytes = AUDIT_LOG_MAX_BYTES): Promise<void> {
  if (entries.length === 0) return;
  await makeDirectory(dir);
  const path = join(dir, AUDIT_LOG_FILE);
  const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (size > 0 && size + Buffer.byteLength(text) > maxBytes) await rename(path, `${path}.1`);
  // O_NOFOLLOW: a link planted in the state directory must not make root append elsewhere.
  await appendFile(path, text, { mode: 0o600, flag: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW });
}
