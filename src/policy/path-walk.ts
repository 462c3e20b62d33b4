// Who could change what a path names. Running as root, a file is only as trustworthy as every
// component on the way to it: a user who can write a directory on the path, or who owns a link
// on it, can make the path name another file. Like OpenSSH's StrictModes, the walk goes from /
// one component at a time, resolving links itself (and judging each link and every directory of
// its target), and lists everyone besides root who could write or replace a component. The file
// is then opened without following links and compared with what was walked, so what was judged
// is what is read.

import { constants, type Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { describeIoError, notRegular, readBoundedFile, type ReadProblem } from './bounded-read.js';

/** Linux's own bound (MAXSYMLINKS). */
export const MAX_LINKS = 40;

/** Someone besides root who could write or replace one component of a path. */
export interface PathWriter {
  /** A directory passed through, a link followed, or the file itself. */
  component: string;
  /** A uid other than root, or anyone at all. */
  who: number | 'anyone';
  /** What lets them, after the component's name: "is owned by uid 1001, not by root". */
  how: string;
  /** The command that takes it away. */
  fix: string;
}

export interface WalkedPath {
  /** The path with every link resolved. */
  resolved: string;
  /** The last component, as lstat saw it: a link only when links are not followed there. */
  stats: Stats;
  writers: PathWriter[];
}

export interface WalkOptions {
  /** A link as the last component is followed (judged like the rest) rather than refused. */
  followLastLink: boolean;
}

/**
 * Walks `path` from / and lists who could change what it names: each component's owner when
 * not root, and anyone when a component is writable by group or others (a directory with the
 * sticky bit excepted: there only an entry's owner and the directory's owner may replace the
 * entry, and both are counted). A missing component or a loop is a ReadProblem.
 */
export async function walkPath(path: string, options: WalkOptions): Promise<WalkedPath | ReadProblem> {
  const pending = components(resolve(path));
  let current = '/';
  let links = 0;
  const top = await lstatOf(path, current);
  if ('code' in top) return top;
  let stats = top;
  const writers = writersOf(current, stats);
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      current = resolve(current, '..'); // a directory already walked through
      const parent = await lstatOf(path, current);
      if ('code' in parent) return parent;
      stats = parent;
      continue;
    }
    if (!stats.isDirectory()) return problem(path, 'ENOTDIR');
    const next = join(current, name);
    const found = await lstatOf(path, next);
    if ('code' in found) return found;
    writers.push(...writersOf(next, found));
    if (found.isSymbolicLink() && (pending.length > 0 || options.followLastLink)) {
      links += 1;
      if (links > MAX_LINKS) return problem(path, 'ELOOP');
      let target: string;
      try {
        target = await readlink(next);
      } catch (error) {
        return problem(path, (error as NodeJS.ErrnoException).code ?? 'EIO', error);
      }
      pending.unshift(...components(target));
      if (isAbsolute(target)) {
        current = '/';
        stats = top;
      }
      continue;
    }
    current = next;
    stats = found;
  }
  return { resolved: current, stats, writers };
}

/**
 * Reads a file of at most `limit` (+1) bytes after walking its path: `accept` may refuse the walk
 * before anything is opened; only a regular file is opened, with O_NOFOLLOW and O_NONBLOCK, and
 * the open handle must be the very file the walk judged, or nothing is read.
 */
export async function readWalkedFile(
  path: string,
  limit: number,
  options: WalkOptions & {
    /** Judges the walk before anything is opened; the last component is a regular file, or a link not followed. */
    accept?: (walked: WalkedPath) => ReadProblem | undefined | Promise<ReadProblem | undefined>;
    /** For tests: runs between the walk and the open, where a swap would happen. */
    beforeOpen?: () => Promise<void>;
  },
): Promise<{ bytes: Buffer; walked: WalkedPath } | ReadProblem> {
  const walked = await walkPath(path, options);
  if ('code' in walked) return walked;
  if (!walked.stats.isFile() && !walked.stats.isSymbolicLink()) return notRegular(path);
  const refusal = await options.accept?.(walked);
  if (refusal) return refusal;
  if (walked.stats.isSymbolicLink()) {
    const reason = 'is a symbolic link, which is not followed here; name the file itself';
    return { code: 'permission', message: `Refused: ${path} ${reason}`, reason };
  }
  await options.beforeOpen?.();
  const read = await readBoundedFile(
    walked.resolved,
    limit,
    (stats) => (stats.isFile() && stats.dev === walked.stats.dev && stats.ino === walked.stats.ino ? undefined : changed(path)),
    constants.O_NOFOLLOW,
  );
  if ('code' in read) return read.errno === 'ELOOP' || read.errno === 'ENOENT' ? changed(path) : read;
  return { bytes: read.bytes, walked };
}

/** The writers not among `trusted` (root is never listed). */
export function untrustedWriters(walked: WalkedPath, trusted: readonly number[]): PathWriter[] {
  return walked.writers.filter((writer) => writer.who === 'anyone' || !trusted.includes(writer.who));
}

/** "policy file /a/b.yaml is owned by uid 7, not by root" or "… is reached through /a, which is owned …". */
export function describeWriter(what: string, path: string, writer: PathWriter): string {
  return writer.component === resolve(path) ? `${what} ${path} ${writer.how}` : `${what} ${path} is reached through ${writer.component}, which ${writer.how}`;
}

function writersOf(component: string, stats: Stats): PathWriter[] {
  const writers: PathWriter[] = [];
  const link = stats.isSymbolicLink();
  if (stats.uid !== 0) {
    writers.push({
      component,
      who: stats.uid,
      how: link ? `is a symbolic link owned by uid ${stats.uid}, not by root` : `is owned by uid ${stats.uid}, not by root`,
      fix: link ? `chown -h root ${component}` : `chown root ${component}`,
    });
  }
  const sticky = stats.isDirectory() && (stats.mode & 0o1000) !== 0;
  const groups = [stats.mode & 0o020 ? 'group' : '', stats.mode & 0o002 ? 'others' : ''].filter(Boolean);
  if (!link && !sticky && groups.length > 0) {
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
    writers.push({ component, who: 'anyone', how: `is writable by ${groups.join(' and ')} (mode ${mode})`, fix: `chmod go-w ${component}` });
  }
  return writers;
}

function components(path: string): string[] {
  return path.split('/').filter((name) => name !== '');
}

async function lstatOf(path: string, component: string): Promise<Stats | ReadProblem> {
  try {
    return await lstat(component);
  } catch (error) {
    return problem(path, (error as NodeJS.ErrnoException).code ?? 'EIO', error);
  }
}

function problem(path: string, errno: string, error?: unknown): ReadProblem {
  const reason = describeIoError(error ?? Object.assign(new Error(errno), { code: errno }));
  return { code: 'io', message: `Cannot read ${path}: ${reason}`, reason, errno };
}

function changed(path: string): ReadProblem {
  const reason = 'changed while it was being read (replaced, or a link planted); nothing was read';
  return { code: 'permission', message: `Refused: ${path} ${reason}`, reason };
}
