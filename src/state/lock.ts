// The lock that keeps two cycles from acting at once: STATE_DIR/lock, created exclusively and
// holding the owner's pid and start time. An overlapping run waits a bounded time; a lock
// whose owner has died (kill -9 mid-cycle) is broken, under a second lock so that two
// waiters cannot both break it.

import { constants } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { makeDirectory } from './directory.js';
import { join } from 'node:path';
import { readStartTime } from '../host/proc.js';
import { sameStartTime } from '../data/host-index.js';

export const LOCK_FILE = 'lock';

export interface LockOwner {
  pid: number;
  /** Epoch seconds; tells a live owner from a new process that reuses its pid. */
  start_time?: number;
  /** Epoch seconds when it took the lock. */
  since: number;
}

/** Another run holds the lock and did not let go in time. */
export class LockBusyError extends Error {
  constructor(
    readonly path: string,
    readonly owner: LockOwner | undefined,
    waitedSeconds: number,
  ) {
    const who = owner ? `procguard pid ${owner.pid} (holding it since ${new Date(owner.since * 1000).toISOString()})` : 'another procguard';
    super(`${path} is held by ${who}; waited ${waitedSeconds}s, nothing was done`);
  }
}

export interface LockOptions {
  /** How long to wait for a busy lock, in seconds. */
  wait: number;
  /** Milliseconds between attempts. */
  poll?: number;
}

export interface Lock {
  path: string;
  release(): Promise<void>;
}

export async function acquireLock(dir: string, options: LockOptions): Promise<Lock> {
  await makeDirectory(dir);
  const path = join(dir, LOCK_FILE);
  const deadline = Date.now() + options.wait * 1000;
  const me: LockOwner = { pid: process.pid, since: Math.floor(Date.now() / 1000) };
  const start = readStartTime(process.pid);
  if (start !== undefined) me.start_time = start;
  for (;;) {
    if (await tryCreate(path, me)) return { path, release: () => releaseLock(path, me) };
    const owner = await readOwner(path);
    if (owner !== 'gone' && (await isStale(path, owner))) {
      await breakStaleLock(path, owner);
      continue;
    }
    if (Date.now() >= deadline) throw new LockBusyError(path, owner === 'gone' ? undefined : owner, options.wait);
    await new Promise((resolve) => setTimeout(resolve, options.poll ?? 100));
  }
}

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  try {
    const file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await file.writeFile(`${JSON.stringify(owner)}\n`);
    } catch (error) {
      // A full disk: an empty lock would hold every later run off for UNREADABLE_LOCK_AGE_MS.
      await file.close();
      await unlink(path).catch(() => undefined);
      throw error;
    }
    await file.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The owner named in the file; 'gone' when the file vanished; undefined when it is unreadable (treated as held while young). */
async function readOwner(path: string): Promise<LockOwner | undefined | 'gone'> {
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    return Number.isInteger(data.pid) && Number.isInteger(data.since) ? (data as LockOwner) : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return undefined;
  }
}

/** An unreadable lock file is being written by its owner; one this old was left by a run that died between creating and writing it. */
const UNREADABLE_LOCK_AGE_MS = 10_000;

async function ageMs(path: string): Promise<number> {
  return stat(path).then(
    (s) => Date.now() - s.mtimeMs,
    () => 0,
  );
}

/** The owner has exited, or its pid now belongs to another process; an unreadable lock is stale once old. */
async function isStale(path: string, owner: LockOwner | undefined): Promise<boolean> {
  if (owner === undefined) return (await ageMs(path)) > UNREADABLE_LOCK_AGE_MS;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  if (owner.start_time === undefined) return false;
  const start = readStartTime(owner.pid);
  if (start === undefined) return false;
  // A lock written by an earlier procguard holds the start time in whole seconds.
  return Number.isInteger(owner.start_time) ? Math.floor(start) !== owner.start_time : !sameStartTime(start, owner.start_time);
}

/** Removes the lock if it still names the same stale owner; under lock.break, so two waiters cannot both break it (and the second remove a fresh lock). */
async function breakStaleLock(path: string, owner: LockOwner | undefined): Promise<void> {
  const breaker = `${path}.break`;
  if (!(await tryCreate(breaker, { pid: process.pid, since: Math.floor(Date.now() / 1000) }))) {
    // Someone else is breaking it; a breaker that died leaves its file, which ages out.
    if ((await ageMs(breaker)) > UNREADABLE_LOCK_AGE_MS) await unlink(breaker).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return;
  }
  try {
    const current = await readOwner(path);
    if (current !== 'gone' && current?.pid === owner?.pid && current?.since === owner?.since) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

async function releaseLock(path: string, me: LockOwner): Promise<void> {
  const current = await readOwner(path);
  if (current !== 'gone' && current?.pid === me.pid && current.since === me.since) await unlink(path).catch(() => undefined);
}
