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

/**
 * /proc/PID/stat: the name sits in parentheses and may itself hold spaces and parentheses.
 * Read once per process per cycle, so it reads its numbers where they stand, without
 * splitting the line or cutting out each field.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open || text.charCodeAt(close + 1) !== 32) return undefined;
  const pid = integerIn(text, 0, open - 1);
  // The fields after ") ", counted from the state at 0: ppid is 1, flags 6, utime 11, stime 12, starttime 19, rss 21.
  let state = '';
  let [ppid, flags, utime, stime, startTicks, rssPages] = [NaN, NaN, NaN, NaN, NaN, NaN];
  for (let at = close + 2, field = 0; field <= 21; field += 1) {
    let end = text.indexOf(' ', at);
    if (end === -1) {
      if (field < 21) return undefined;
      end = text.length;
    }
    if (field === 0) state = text.slice(at, end);
    else if (field === 1) ppid = integerIn(text, at, end);
    else if (field === 6) flags = integerIn(text, at, end);
    else if (field === 11) utime = integerIn(text, at, end);
    else if (field === 12) stime = integerIn(text, at, end);
    else if (field === 19) startTicks = integerIn(text, at, end);
    else if (field === 21) rssPages = integerIn(text, at, end);
    at = end + 1;
  }
  if (Number.isNaN(pid) || Number.isNaN(ppid) || Number.isNaN(flags) || Number.isNaN(utime) || Number.isNaN(stime) || Number.isNaN(startTicks) || Number.isNaN(rssPages)) return undefined;
  return { pid, name: text.slice(open + 1, close), state: state || '?', ppid, flags, startTicks, rssPages: Math.max(0, rssPages), cpuTicks: Math.max(0, utime + stime) };
}

/** The decimal integer text[from, to) holds (a sign, digits, whitespace around them), NaN for anything else. */
function integerIn(text: string, from: number, to: number): number {
  while (from < to && isWhitespace(text.charCodeAt(from))) from += 1;
  while (to > from && isWhitespace(text.charCodeAt(to - 1))) to -= 1;
  let sign = 1;
  const first = text.charCodeAt(from);
  if (first === 45 || first === 43) {
    if (first === 45) sign = -1;
    from += 1;
    if (from === to) return NaN;
  }
  let value = 0;
  for (let at = from; at < to; at += 1) {
    const digit = text.charCodeAt(at) - 48;
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
      const read = readSync(fd, buffer, length, Math.min(buffer.length, limit + 1) - length, null);
      if (read === 0) break;
      length += read;
    }
    return { text: buffer.toString('utf8', 0, Math.min(length, limit)), truncated: length > limit };
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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return GONE;
    if (code === 'EACCES' || code === 'EPERM') return undefined;
    throw error;
  }
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
