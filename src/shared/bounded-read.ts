// Reading a file an operator named (policy, template, snapshot, pidfile, password file)
// without trusting it: opened with O_NONBLOCK so a FIFO cannot hang a cycle, checked through
// the open handle so what is checked is what is read, and read only up to a bound.

import { errorText } from './errors.js';
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/** A password file holds one line. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

export interface ReadProblem {
  code: 'io' | 'permission';
  message: string;
  /** The message without the path, for a caller that names the file itself. */
  reason: string;
  /** The system error, such as ENOENT, when there was one. */
  errno?: string;
}

/**
 * Reads at most `limit` + 1 bytes of a file opened with O_NONBLOCK, after `check` has accepted
 * the handle's fstat. A caller sees a result longer than `limit` as too large.
 */
export async function readBoundedFile(
  path: string,
  limit: number,
  check: (stats: Stats) => ReadProblem | undefined = (stats) => (stats.isFile() ? undefined : notRegular(path)),
  /** More open(2) flags, such as O_NOFOLLOW. */
  flags = 0,
): Promise<{ bytes: Buffer } | ReadProblem> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | flags);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    const reason = describeIoError(error);
    return { code: 'io', message: `Cannot read ${path}: ${reason}`, reason, ...(errno !== undefined ? { errno } : {}) };
  }
  try {
    const stats = await handle.stat();
    const problem = check(stats);
    if (problem) return problem;
    // Sized from fstat, grown if the file grows while read, never past limit + 1.
    let buffer = Buffer.allocUnsafe(Math.min(limit + 1, Math.max(stats.size + 1, 4096)));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (buffer.length > limit) break;
        const larger = Buffer.allocUnsafe(Math.min(limit + 1, buffer.length * 2));
        buffer.copy(larger, 0, 0, length);
        buffer = larger;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { bytes: buffer.subarray(0, length) };
  } catch (error) {
    const reason = describeIoError(error);
    return { code: 'io', message: `Cannot read ${path}: ${reason}`, reason };
  } finally {
    await handle.close();
  }
}

/** At most `limit` + 1 bytes of a stream such as standard input; decodeText tells a longer one as too large. */
export async function readBoundedStream(stream: AsyncIterable<Buffer | string>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(bytes);
    length += bytes.length;
    if (length > limit) break; // ends (destroys) the stream: the rest is never read
  }
  return Buffer.concat(chunks).subarray(0, limit + 1);
}

export function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return errorText(error);
  }
}

/**
 * The UTF-8 text of a file of at most `limit` bytes, or why not: not a regular file, too
 * large, binary, not UTF-8. `what` names it in messages ("policy file", "snapshot").
 */
export async function readTextFile(path: string, limit: number, what: string, check?: (stats: Stats) => ReadProblem | undefined): Promise<string | ReadProblem> {
  const read = await readBoundedFile(path, limit, check);
  return 'code' in read ? read : decodeText(path, read.bytes, limit, what);
}

/** The UTF-8 text of bytes read from `path` with readBoundedFile, or why they are not text. */
export function decodeText(path: string, bytes: Buffer, limit: number, what: string): string | ReadProblem {
  const size = limit >= 1024 * 1024 ? `${limit / 1024 / 1024} MiB` : `${limit} bytes`;
  const problem = (reason: string): ReadProblem => ({ code: 'io', message: `${capitalize(what)} ${path} ${reason}`, reason });
  if (bytes.length > limit) return problem(`is larger than ${size}`);
  const nul = bytes.indexOf(0);
  if (nul !== -1) return problem(`is binary, not text (a NUL byte at offset ${nul})`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return problem('is not valid UTF-8 text');
  }
}

/** A FIFO, device, socket or directory where a file was expected. */
export function notRegular(path: string): ReadProblem {
  return { code: 'io', message: `${path} is not a regular file`, reason: 'is not a regular file' };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
