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
import { describeIoError, notRegular, readBoundedFile, type ReadProblem } from '../shared/bounded-read.js';

/** Linux's own bound (MAXSYMLINKS). */
export const MAX_LINKS = 40;

/**
 * The most components one walk takes, those of every link's target included. Links are few
 * (MAX_LINKS) but their targets may be long: 40 targets of `x/../x/../…` would otherwise cost
 * tens of thousands of lookups per file per cycle.
 */
export const MAX_WALK_STEPS = 4096;

/** PATH_MAX: no link target longer than this is followed. */
export const MAX_LINK_TARGET = 4096;

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
  /** For tests: runs after each lookup (lstat) of a component, where a swap would happen. */
  afterLookup?: (component: string) => void | Promise<void>;
}

/**
 * Walks `path` from / and lists who could change what it names: each component's owner when
 * not root, and anyone when a component is writable by group or others (a directory with the
 * sticky bit excepted: there only an entry's owner and the directory's owner may replace the
 * entry, and both are counted). The path is taken as the kernel takes it: joined to the working
 * directory but not normalized, `..` is the parent of where the walk really is (after the links
 * on the way), and a trailing slash asks for a directory. A missing component, a loop or a walk
 * longer than MAX_WALK_STEPS is a ReadProblem.
 */
export async function walkPath(path: string, options: WalkOptions): Promise<WalkedPath | ReadProblem> {
  const pending = components(isAbsolute(path) ? path : `${process.cwd()}/${path}`);
  const lookup = async (component: string): Promise<Stats | ReadProblem> => {
    const stats = await lstatOf(path, component);
    await options.afterLookup?.(component);
    return stats;
  };
  const top = await lookup('/');
  if ('code' in top) return top;
  const writers = writersOf('/', top);
  /** The directories from / to where the walk is, every link resolved: `..` goes back one. */
  const trail: { component: string; stats: Stats }[] = [{ component: '/', stats: top }];
  let links = 0;
  let steps = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    steps += 1;
    if (steps > MAX_WALK_STEPS) return tooLong(path);
    const here = trail.at(-1)!;
    if (!here.stats.isDirectory()) return problem(path, 'ENOTDIR');
    if (name === '.') continue;
    if (name === '..') {
      if (trail.length > 1) trail.pop();
      continue;
    }
    const next = join(here.component, name);
    const found = await lookup(next);
    if ('code' in found) return found;
    writers.push(...writersOf(next, found));
    if (found.isSymbolicLink() && (pending.length > 0 || options.followLastLink)) {
      links += 1;
      if (links > MAX_LINKS) return problem(path, 'ELOOP');
      let target: string;
      try {
        target = await readlink(next);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
        // EINVAL: no longer a link; ENOENT: gone. Either way it changed since the lookup.
        return code === 'EINVAL' || code === 'ENOENT' ? changed(path) : problem(path, code, error);
      }
      if (target.length > MAX_LINK_TARGET) return longTarget(path, next);
      pending.unshift(...components(target));
      if (isAbsolute(target)) trail.splice(1);
      continue;
    }
    trail.push({ component: next, stats: found });
  }
  const end = trail.at(-1)!;
  return { resolved: end.component, stats: end.stats, writers };
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

/** The names in a path, as the kernel walks them; a trailing slash is a last `.`: a directory is asked for, and a link there is followed. */
function components(path: string): string[] {
  const names = path.split('/').filter((name) => name !== '');
  if (names.length > 0 && path.endsWith('/')) names.push('.');
  return names;
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

function tooLong(path: string): ReadProblem {
  const reason = `takes more than ${MAX_WALK_STEPS} steps to resolve (its components and those of every link's target), so it is refused as a loop of links is`;
  return { code: 'io', message: `Cannot read ${path}: ${reason}`, reason, errno: 'ELOOP' };
}

function longTarget(path: string, link: string): ReadProblem {
  const reason = `is reached through the link ${link}, whose target is longer than ${MAX_LINK_TARGET} characters`;
  return { code: 'io', message: `Cannot read ${path}: ${reason}`, reason, errno: 'ENAMETOOLONG' };
}

function changed(path: string): ReadProblem {
  const reason = 'changed while it was being read (replaced, or a link planted); nothing was read';
  return { code: 'permission', message: `Refused: ${path} ${reason}`, reason };
}
