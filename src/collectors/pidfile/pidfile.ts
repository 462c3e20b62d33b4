// The pid each pidfile a policy names. Running as root, whoever can change what a pidfile path
// names chooses which process a policy acts on: not only the file's owner, but whoever can
// write a directory on the way to it or owns a link on it. So every component is judged
// (path-walk.ts): one anyone can write makes the pidfile ignored, and one a user other than
// root can change makes it count only for that user's own processes.

import { stat } from 'node:fs/promises';
import type { CollectorError } from '../../engine/types.js';
import { describeWriter, readWalkedFile, untrustedWriters } from '../../policy/path-walk.js';

/** A pidfile holds a number and a newline; anything larger is not one. */
export const MAX_PIDFILE_BYTES = 64;

export async function readPidfiles(paths: Iterable<string>, errors: CollectorError[]): Promise<Record<string, number | null>> {
  const result: Record<string, number | null> = {};
  const uid = process.getuid?.() ?? -1;
  await Promise.all(
    [...new Set(paths)].map(async (path) => {
      const read = await readPidfile(path, uid);
      result[path] = typeof read === 'number' ? read : null;
      if (typeof read === 'string') errors.push({ source: 'pidfile', message: read });
    }),
  );
  return result;
}

/** The pid a pidfile names, undefined for a missing file (a stopped service), or why it is not used. */
export async function readPidfile(path: string, uid: number): Promise<number | string | undefined> {
  const read = await readWalkedFile(path, MAX_PIDFILE_BYTES, { followLastLink: true });
  if ('code' in read) return read.errno === 'ENOENT' ? undefined : read.message;
  if (read.bytes.length > MAX_PIDFILE_BYTES) return `${path} is larger than ${MAX_PIDFILE_BYTES} bytes, so it is not a pidfile; ignored`;
  const text = read.bytes.toString('utf8').trim();
  const pid = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0) return `${path} does not hold a pid`;

  const writers = untrustedWriters(read.walked, [0, uid]);
  const anyone = writers.find((writer) => writer.who === 'anyone');
  if (anyone) {
    return `${describeWriter('pidfile', path, anyone)}, so anyone could choose the process procguard acts on; ignored (fix with: ${anyone.fix})`;
  }
  if (writers.length === 0) return pid;
  const runsAs = await stat(`/proc/${pid}`).then((s) => s.uid, () => undefined);
  if (runsAs === undefined) return pid; // no such process: it matches nothing
  const other = writers.find((writer) => writer.who !== runsAs);
  if (!other) return pid;
  return `${describeWriter('pidfile', path, other)}; it names pid ${pid}, which runs as uid ${runsAs}, so it is ignored (a pidfile that a user other than root can change may only name that user's processes; fix with: ${other.fix})`;
}
