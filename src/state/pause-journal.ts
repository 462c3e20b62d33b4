// STATE_DIR/paused.journal: a second record of every process tree procguard paused, beside
// state.json, so that a state file truncated or replaced by garbage still leads to every paused
// process. A tree is appended (and fsynced) before its SIGSTOP; each line carries a checksum of
// itself, so a line cut short by a crash is recognised and skipped, never misread. Whenever
// state.json is written, the journal is rewritten (atomically) to hold exactly its paused trees.

import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PausedTree } from '../data/types.js';
import { notRegular, readBoundedFile } from '../shared/bounded-read.js';
import { state as stateValidator } from '../policy/state-validator.generated.js';
import { writeFileAtomically } from './atomic-write.js';

export const PAUSE_JOURNAL_FILE = 'paused.journal';
/** Compacted at every state write, the journal holds the trees of a few cycles; this is far above. */
const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;

export function journalPath(dir: string): string {
  return join(dir, PAUSE_JOURNAL_FILE);
}

/** "<checksum> <tree as JSON>": the checksum is the first 16 hex digits of the JSON's SHA-256. */
function line(tree: PausedTree): string {
  const json = JSON.stringify(tree);
  return `${checksum(json)} ${json}\n`;
}

function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/**
 * Appends the trees and fsyncs before returning: call it before their SIGSTOP. Each record
 * starts on a line of its own even if a crash left the previous one cut short. Throws the
 * system error (a full disk, a link planted under the journal's name).
 */
export async function appendPauses(dir: string, trees: readonly PausedTree[]): Promise<void> {
  if (trees.length === 0) return;
  const file = await open(journalPath(dir), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw Object.assign(new Error(`${journalPath(dir)} is not a regular file`), { code: 'EINVAL' });
    await file.writeFile(`\n${trees.map(line).join('')}`);
    await file.sync();
  } finally {
    await file.close();
  }
}

export interface JournalRead {
  trees: PausedTree[];
  /** Lines that failed their checksum or their shape (a write cut short): skipped. */
  damaged: number;
}

/** The trees the journal names, each once (the last record of a tree wins). A missing journal names none. */
export async function readPauses(dir: string): Promise<JournalRead | { problem: string }> {
  const path = journalPath(dir);
  const read = await readBoundedFile(path, MAX_JOURNAL_BYTES, (stats) => (stats.isFile() ? undefined : notRegular(path)), constants.O_NOFOLLOW);
  if ('code' in read) {
    if (read.errno === 'ENOENT') return { trees: [], damaged: 0 };
    return { problem: `cannot read the pause journal ${path}: ${read.errno === 'ELOOP' ? 'it is a symbolic link' : (read.errno ?? read.reason)}` };
  }
  // Past the bound, the lines read so far are still good ones; the cut last line fails its checksum.
  const validTree = stateValidator;
  const byKey = new Map<string, PausedTree>();
  let damaged = 0;
  for (const text of read.bytes.toString('utf8').split('\n')) {
    if (text === '') continue;
    const space = text.indexOf(' ');
    const json = text.slice(space + 1);
    let tree: unknown;
    try {
      tree = space === 16 && checksum(json) === text.slice(0, 16) ? JSON.parse(json) : undefined;
    } catch {
      tree = undefined;
    }
    if (tree === undefined || !validTree({ version: 1, targets: {}, paused: [tree] })) {
      damaged += 1;
      continue;
    }
    byKey.set(treeKey(tree as PausedTree), tree as PausedTree);
  }
  return { trees: [...byKey.values()], damaged };
}

/** A paused tree's identity: its policy and the pid and start time of its top process. */
export function treeKey(tree: PausedTree): string {
  return `${tree.policy}\0${tree.root.pid}\0${tree.root.start_time}`;
}

/**
 * Rewrites the journal to hold exactly `trees` (those state.json now lists): a temporary file,
 * fsynced, renamed over it; none at all when nothing is paused. On failure the old journal is
 * left, which names at least every tree still stopped; the caller may go on.
 */
export async function compactPauses(dir: string, trees: readonly PausedTree[]): Promise<void> {
  const path = journalPath(dir);
  if (trees.length === 0) {
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    return;
  }
  await writeFileAtomically(path, trees.map(line).join(''));
}
