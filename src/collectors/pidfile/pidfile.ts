// The pid each pidfile a policy names. Running as root, whoever can change what a pidfile path
// names chooses which process a policy acts on: not only the file's owner, but whoever can
// write a directory on the way to it or owns a link on it. So every component is judged
// (path-walk.ts): one anyone can write makes the pidfile ignored, and one a user other than
// root can change makes it count only for that user's own processes. That rule travels with
// the pid into the snapshot (`uid`), and the engine applies it to the very process table entry
// it matches: a check made here, at another moment, could be passed by one process and the pid
// then held by another.

import { readFile } from 'node:fs/promises';
import type { CollectorError, PidfileEntry } from '../../data/types.js';
import { describeWriter, readWalkedFile, untrustedWriters } from '../../policy/path-walk.js';

/** A pidfile holds a number and a newline; anything larger is not one. */
export const MAX_PIDFILE_BYTES = 64;

export async function readPidfiles(paths: Iterable<string>, errors: CollectorError[]): Promise<Record<string, PidfileEntry | null>> {
  const result: Record<string, PidfileEntry | null> = {};
  const uid = process.getuid?.() ?? -1;
  await Promise.all(
    [...new Set(paths)].map(async (path) => {
      const read = await readPidfile(path, uid);
      result[path] = typeof read === 'object' ? read : null;
      if (typeof read === 'string') errors.push({ source: 'pidfile', message: read });
    }),
  );
  return result;
}

/**
 * What a pidfile names: its pid, and the only uid that pid may run as when a user other than
 * root (or procguard's `uid`) could change the pidfile; undefined for a missing file (a stopped
 * service); or why it is not used.
 */
export async function readPidfile(path: string, uid: number): Promise<PidfileEntry | string | undefined> {
  const read = await readWalkedFile(path, MAX_PIDFILE_BYTES, { followLastLink: true });
  if ('code' in read) return read.errno === 'ENOENT' ? undefined : read.message;
  if (read.bytes.length > MAX_PIDFILE_BYTES) return `${path} is larger than ${MAX_PIDFILE_BYTES} bytes, so it is not a pidfile; ignored`;
  const text = read.bytes.toString('utf8').trim();
  const pid = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 0xffffffff) return `${path} does not hold a pid`;

  const writers = untrustedWriters(read.walked, [0, uid]);
  const anyone = writers.find((writer) => writer.who === 'anyone');
  if (anyone) {
    return `${describeWriter('pidfile', path, anyone)}, so anyone could choose the process procguard acts on; ignored (fix with: ${anyone.fix})`;
  }
  const [first] = writers;
  if (!first) return { pid };
  const allowed = first.who as number;
  const second = writers.find((writer) => writer.who !== allowed);
  if (second) {
    return `${describeWriter('pidfile', path, second)}, and uid ${allowed} can change it too; no process runs as both, so it is ignored (fix with: ${second.fix})`;
  }
  // The process as it is now, for a warning that says why; the engine checks again the process it matches.
  const uids = await uidsOf(pid);
  if (uids === undefined || uids.every((id) => id === allowed)) return { pid, uid: allowed };
  const runsAs = uids.every((id) => id === uids[0]) ? `uid ${uids[0]}` : `uids ${uids.join(', ')} (real, effective, saved, filesystem)`;
  const other = writers[0]!;
  return `${describeWriter('pidfile', path, other)}; it names pid ${pid}, which runs as ${runsAs}, so it is ignored (a pidfile that a user other than root can change may only name that user's processes; fix with: ${other.fix})`;
}

/** The real, effective, saved and filesystem uids of a process, undefined when there is no such process. */
async function uidsOf(pid: number): Promise<number[] | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const line = status === undefined ? null : /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/m.exec(status);
  return line ? line.slice(1, 5).map(Number) : undefined;
}
