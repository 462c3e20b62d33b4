// Reading one process of this host from /proc: its stat line, its start time to the clock tick
// (against pid reuse, right before a signal), whether it is still alive. Shared by the process
// table collector, the adapters and the state lock.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  name: string;
  state: string;
  ppid: number;
  flags: number;
  startTicks: number;
  rssPages: number;
  /** utime + stime: clock ticks of CPU the process has used, in user and in kernel mode. */
  cpuTicks: number;
}

/** /proc/PID/stat: the name sits in parentheses and may itself hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | undefined {
  const bytes = Buffer.from(text, 'utf8');
  return parseProcStatBytes(bytes, bytes.length);
}

/**
 * parseProcStat on the line's bytes as read, bytes[0, length). Read once per process per
 * cycle, so it reads its numbers where they stand, without making text of the line, splitting
 * it or cutting out each field. Only the name is decoded, as UTF-8 as the whole line would be:
 * the parentheses around it are single bytes that no multi-byte character holds.
 */
export function parseProcStatBytes(bytes: Buffer, length: number): ProcStat | undefined {
  let open = 0;
  while (open < length && bytes[open] !== OPEN_PARENTHESIS) open += 1;
  let close = length - 1;
  while (close > open && bytes[close] !== CLOSE_PARENTHESIS) close -= 1;
  if (open < 1 || open === length || close <= open || bytes[close + 1] !== SPACE) return undefined;
  const pid = integerIn(bytes, 0, open - 1);
  // The fields after ") ", counted from the state at 0: ppid is 1, flags 6, utime 11, stime 12, starttime 19, rss 21.
  let state = '';
  let [ppid, flags, utime, stime, startTicks, rssPages] = [NaN, NaN, NaN, NaN, NaN, NaN];
  for (let at = close + 2, field = 0; field <= 21; field += 1) {
    let end = at;
    while (end < length && bytes[end] !== SPACE) end += 1;
    if (end === length && field < 21) return undefined;
    if (field === 0) state = end - at === 1 && bytes[at]! < 128 ? String.fromCharCode(bytes[at]!) : bytes.toString('utf8', at, end);
    else if (field === 1) ppid = integerIn(bytes, at, end);
    else if (field === 6) flags = integerIn(bytes, at, end);
    else if (field === 11) utime = integerIn(bytes, at, end);
    else if (field === 12) stime = integerIn(bytes, at, end);
    else if (field === 19) startTicks = integerIn(bytes, at, end);
    else if (field === 21) rssPages = integerIn(bytes, at, end);
    at = end + 1;
  }
  if (Number.isNaN(pid) || Number.isNaN(ppid) || Number.isNaN(flags) || Number.isNaN(utime) || Number.isNaN(stime) || Number.isNaN(startTicks) || Number.isNaN(rssPages)) return undefined;
  return { pid, name: bytes.toString('utf8', open + 1, close), state: state || '?', ppid, flags, startTicks, rssPages: Math.max(0, rssPages), cpuTicks: Math.max(0, utime + stime) };
}

const OPEN_PARENTHESIS = 40;
const CLOSE_PARENTHESIS = 41;
const SPACE = 32;

/** The decimal integer bytes[from, to) holds (a sign, digits, whitespace around them), NaN for anything else. */
function integerIn(bytes: Buffer, from: number, to: number): number {
  while (from < to && isWhitespace(bytes[from]!)) from += 1;
  while (to > from && isWhitespace(bytes[to - 1]!)) to -= 1;
  let sign = 1;
  const first = bytes[from];
  if (first === 45 || first === 43) {
    if (first === 45) sign = -1;
    from += 1;
    if (from === to) return NaN;
  }
  let value = 0;
  for (let at = from; at < to; at += 1) {
    const digit = bytes[at]! - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return sign * value;
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 10 || code === 9 || code === 13;
}

/** A process that exited while it was being read. */
export const GONE = Symbol('gone');

/** One buffer for every read: procfs files are small, and their reported size is 0. */
let buffer = Buffer.allocUnsafe(16 * 1024);

export interface ProcText {
  text: string;
  /** The file went on past the bytes read. */
  truncated: boolean;
}

/** A whole procfs file (or its first `limit` bytes) by open, read, close: no fstat, no buffer per file. */
function readProcFile(path: string, limit = Infinity): ProcText {
  const length = readProcBytes(path, limit);
  return { text: buffer.toString('utf8', 0, Math.min(length, limit)), truncated: length > limit };
}

/**
 * Reads the file into `buffer`: its length, or limit + 1 when it goes on past `limit` bytes.
 * `shortReadEnds`: a read that fills less than it was given is the end of the file, as for a
 * procfs file of one record (stat: the kernel's seq_file hands over the whole record at once
 * when it fits, and any file on a disk does too), which saves a second read per file.
 */
function readProcBytes(path: string, limit = Infinity, shortReadEnds = false): number {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    // One byte past the limit tells a file of exactly `limit` bytes from a longer one.
    while (length <= limit) {
      if (length === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const wanted = Math.min(buffer.length, limit + 1) - length;
      const read = readSync(fd, buffer, length, wanted, null);
      length += read;
      if (read === 0 || (shortReadEnds && read < wanted)) break;
    }
    return length;
  } finally {
    closeSync(fd);
  }
}

/** The file's text; GONE when the process has exited (ENOENT, ESRCH); undefined when it hides the file. */
export function readIfAlive(path: string): string | typeof GONE | undefined {
  const read = readProcTextIfAlive(path);
  return typeof read === 'object' ? read.text : read;
}

export function readProcTextIfAlive(path: string, limit?: number): ProcText | typeof GONE | undefined {
  try {
    return readProcFile(path, limit);
  } catch (error) {
    return whyUnread(error);
  }
}

/** A process' stat file parsed as it was read, without making text of it: as parseProcStat(readIfAlive(path)), undefined for a line it refuses. */
export function readProcStatIfAlive(path: string): ProcStat | typeof GONE | undefined {
  let length: number;
  try {
    length = readProcBytes(path, Infinity, true);
  } catch (error) {
    return whyUnread(error);
  }
  return parseProcStatBytes(buffer, length);
}

/** GONE for a process that has exited (ENOENT, ESRCH), undefined for a file it hides (EACCES, EPERM); anything else is thrown again. */
function whyUnread(error: unknown): typeof GONE | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ESRCH') return GONE;
  if (code === 'EACCES' || code === 'EPERM') return undefined;
  throw error;
}

/**
 * Seconds since the host booted, with the kernel's hundredths (/proc/uptime): a clock no
 * change of the wall clock moves, on which CPU rates are measured.
 */
export function readSinceBoot(root: string): number | undefined {
  const read = readIfAlive(`${root}/uptime`);
  const seconds = typeof read === 'string' ? Number(read.split(' ', 1)[0]) : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

export function readBootTime(root: string): number {
  const text = readFileSync(`${root}/stat`, 'utf8');
  const match = /^btime (\d+)$/m.exec(text);
  if (!match) throw new Error(`${root}/stat has no btime line`);
  return Number(match[1]);
}

/**
 * Epoch seconds to the clock tick: boot time + field 22 of stat / USER_HZ, not rounded, so
 * that two processes started one tick apart never share a start time (sameStartTime).
 */
export function startTimeOf(bootTime: number, startTicks: number, clockTicks: number): number {
  return bootTime + startTicks / clockTicks;
}

/**
 * A live process' start time in epoch seconds, to the clock tick, computed exactly as the
 * collector does, so a pid can be checked against its snapshot entry right before it is
 * signalled; undefined when no such process exists (or it is a zombie).
 */
export function readStartTime(pid: number, root = '/proc', clockTicks = 100): number | undefined {
  const stat = readIfAlive(`${root}/${pid}/stat`);
  if (stat === GONE || stat === undefined) return undefined;
  const parsed = parseProcStat(stat);
  if (!parsed || parsed.state === 'Z' || parsed.state === 'X') return undefined;
  return startTimeOf(readBootTime(root), parsed.startTicks, clockTicks);
}

/** The state letter of a live process (R, S, T, …); undefined when it has exited. */
export function readProcessState(pid: number, root = '/proc'): string | undefined {
  const stat = readIfAlive(`${root}/${pid}/stat`);
  if (stat === GONE || stat === undefined) return undefined;
  return parseProcStat(stat)?.state;
}
