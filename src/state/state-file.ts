// The state file STATE_DIR/state.json: read with its schema (a corrupt file is moved aside,
// never trusted, and the paused processes it names are salvaged so none is left stopped),
// written atomically (temp file, fsync, rename, fsync of the directory). The paused trees are
// also kept in the pause journal beside it (pause-journal.ts): what either names is resumed.

import { constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { emptyState, type EngineState, type PausedTree } from '../data/types.js';
import { notRegular, readBoundedFile } from '../shared/bounded-read.js';
import { state as stateValidator } from '../policy/state-validator.generated.js';
import { writeFileAtomically } from './atomic-write.js';
import { makeDirectory } from './directory.js';
import { compactPauses, journalPath, readPauses, treeKey } from './pause-journal.js';

export const STATE_FILE = 'state.json';
export const STATE_VERSION = 1;
/** Far above any real state: 100 pending notifications and thousands of counters are a few MiB. */
const MAX_STATE_BYTES = 64 * 1024 * 1024;

/** The state cannot be read or written; the cycle must not act on a guess. */
export class StateError extends Error {}

export interface LoadedState {
  state: EngineState;
  /** What the operator should know: a corrupt file moved aside, paused processes salvaged from it. */
  warnings: string[];
}

export function statePath(dir: string): string {
  return join(dir, STATE_FILE);
}

export async function loadState(dir: string, now: number): Promise<LoadedState> {
  const journal = await readPauses(dir);
  if ('problem' in journal) throw new StateError(journal.problem);
  const loaded = await loadStateFile(dir, now);
  if (journal.damaged > 0) {
    loaded.warnings.push(`${journal.damaged} damaged line${journal.damaged === 1 ? '' : 's'} of the pause journal ${journalPath(dir)} skipped (a write cut short)`);
  }
  const known = new Set(loaded.state.paused.map(treeKey));
  const recovered = journal.trees.filter((tree) => !known.has(treeKey(tree)));
  if (recovered.length > 0) {
    loaded.state.paused.push(...recovered);
    const count = recovered.reduce((n, tree) => n + tree.processes.length, 0);
    loaded.warnings.push(
      `the pause journal names ${count} paused process${count === 1 ? '' : 'es'} the state file does not (${recovered.map((t) => `pid ${t.root.pid} by ${t.policy}`).join(', ')}); kept, so they are resumed and not left stopped`,
    );
  }
  return loaded;
}

async function loadStateFile(dir: string, now: number): Promise<LoadedState> {
  const path = statePath(dir);
  // Not followed if a link, not waited on if a FIFO, not read past a bound.
  const read = await readBoundedFile(path, MAX_STATE_BYTES, (stats) => (stats.isFile() ? undefined : notRegular(path)), constants.O_NOFOLLOW);
  if ('code' in read) {
    if (read.errno === 'ENOENT') return { state: emptyState(), warnings: [] };
    throw new StateError(`cannot read the state file ${path}: ${read.errno === 'ELOOP' ? 'it is a symbolic link' : (read.errno ?? read.reason)}`);
  }
  if (read.bytes.length > MAX_STATE_BYTES) throw new StateError(`the state file ${path} is larger than ${MAX_STATE_BYTES / 1024 / 1024} MiB`);
  const text = read.bytes.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return moveAside(path, undefined, `it is not JSON (${(error as Error).message})`, now);
  }
  const version = (data as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > STATE_VERSION) {
    throw new StateError(`the state file ${path} has version ${version}, written by a newer procguard; this one reads version ${STATE_VERSION} (move the file away to start afresh)`);
  }
  const validate = stateValidator;
  if (validate(data)) return { state: data as EngineState, warnings: [] };
  const first = validate.errors?.[0];
  const where = first ? `${first.instancePath || 'the top level'} ${first.message ?? 'is invalid'}` : 'it does not match schemas/state.schema.json';
  return moveAside(path, data, where, now);
}

async function moveAside(path: string, data: unknown, problem: string, now: number): Promise<LoadedState> {
  const aside = `${path}.corrupt-${now}`;
  await rename(path, aside).catch((error: NodeJS.ErrnoException) => {
    throw new StateError(`the state file ${path} is corrupt (${problem}) and cannot be moved aside: ${error.code ?? String(error)}`);
  });
  const state = emptyState();
  state.paused = salvagePaused(data);
  const warnings = [`the state file ${path} is corrupt (${problem}); moved aside to ${aside}, starting afresh`];
  if (state.paused.length > 0) {
    const count = state.paused.reduce((n, tree) => n + tree.processes.length, 0);
    warnings.push(`kept ${count} paused process${count === 1 ? '' : 'es'} from it, so they are resumed and not left stopped`);
  }
  return { state, warnings };
}

/** The well-formed entries of `paused` in an otherwise broken state. */
function salvagePaused(data: unknown): PausedTree[] {
  const paused = (data as { paused?: unknown } | null)?.paused;
  if (!Array.isArray(paused)) return [];
  const validTree = stateValidator;
  return paused.filter((tree): tree is PausedTree => validTree({ version: 1, targets: {}, paused: [tree] }));
}

/**
 * The state to write ahead of a cycle that pauses: the new state's paused trees plus every tree
 * the previous state had, so that a run dying before its SIGSTOP or its SIGCONT still leaves a
 * record of each stopped process (an extra SIGCONT to a running process is harmless).
 */
export function writeAheadState(next: EngineState, previous: EngineState): EngineState {
  const known = new Set(next.paused.map(treeKey));
  return { ...next, paused: [...next.paused, ...previous.paused.filter((tree) => !known.has(treeKey(tree)))] };
}

/** Write the state so that a crash at any moment leaves either the old file or the new one. */
export async function saveState(dir: string, state: EngineState): Promise<void> {
  await makeDirectory(dir);
  const path = statePath(dir);
  try {
    await writeFileAtomically(path, `${JSON.stringify(state)}\n`);
  } catch (error) {
    throw new StateError(`cannot write the state file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; the previous state is kept`);
  }
  await syncDirectory(dir);
  // After state.json, so the journal never names fewer trees than are stopped. A failure leaves
  // the old journal, which names every tree still stopped and perhaps some resumed since: those
  // get one more SIGCONT, checked against their start time, which a running process ignores.
  await compactPauses(dir, state.paused).catch(() => undefined);
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  }
}
