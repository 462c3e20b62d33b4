// The Linux process table from /proc: one stat file per process, and cmdline, status or
// oom_score_adj only when a policy needs them. A process that exits mid-read is skipped.
// `root` points it at a generated tree for tests and benchmarks.

import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessEntry } from '../../engine/types.js';
import { readUsers, type ProcessFields, type ProcessTableCollector } from '../types.js';

export interface ProcfsOptions {
  /** Default /proc. */
  root?: string;
  /** Default /etc/passwd. */
  passwd?: string;
  /** USER_HZ, the unit of start times in stat; 100 on every Linux. */
  clockTicks?: number;
  /** Bytes per page for stat's rss; detected for the live /proc, 4096 for another root. */
  pageSize?: number;
}

/** PF_KTHREAD in stat's flags. */
const KERNEL_THREAD_FLAG = 0x00200000;
/** comm is cut at TASK_COMM_LEN - 1 characters. */
const COMM_LENGTH = 15;

export class ProcfsCollector implements ProcessTableCollector {
  readonly name = 'procfs';
  private readonly root: string;
  private readonly passwdPath: string;
  private readonly clockTicks: number;
  private readonly pageSize: number;

  constructor(options: ProcfsOptions = {}) {
    this.root = options.root ?? '/proc';
    this.passwdPath = options.passwd ?? '/etc/passwd';
    this.clockTicks = options.clockTicks ?? 100;
    this.pageSize = options.pageSize ?? (this.root === '/proc' ? detectPageSize() : 4096);
  }

  async collect(fields: ProcessFields): Promise<ProcessEntry[]> {
    const bootTime = readBootTime(this.root);
    const users = fields.user ? readUsers(this.passwdPath) : undefined;
    const processes: ProcessEntry[] = [];
    for (const entry of readdirSync(this.root)) {
      const first = entry.charCodeAt(0);
      if (first < 48 || first > 57) continue; // not a pid directory
      const process = this.readProcess(entry, bootTime, fields, users);
      if (process) processes.push(process);
    }
    return processes;
  }

  private readProcess(pid: string, bootTime: number, fields: ProcessFields, users: Map<number, string> | undefined): ProcessEntry | undefined {
    const dir = `${this.root}/${pid}`;
    const stat = readIfAlive(`${dir}/stat`);
    if (stat === GONE || stat === undefined) return undefined;
    const parsed = parseProcStat(stat);
    if (!parsed) return undefined;
    const process: ProcessEntry = {
      pid: parsed.pid,
      ppid: parsed.ppid,
      name: parsed.name,
      rss: parsed.rssPages * this.pageSize,
      start_time: Math.floor(bootTime + parsed.startTicks / this.clockTicks),
      state: parsed.state,
    };
    if (parsed.flags & KERNEL_THREAD_FLAG) process.kernel_thread = true;
    if (fields.cmdline || (fields.truncatedNames && parsed.name.length === COMM_LENGTH)) {
      const cmdline = readIfAlive(`${dir}/cmdline`);
      if (cmdline === GONE) return undefined;
      if (cmdline !== undefined) process.cmdline = cmdlineText(cmdline);
    }
    if (fields.user) {
      const status = readIfAlive(`${dir}/status`);
      if (status === GONE) return undefined;
      const uid = status === undefined ? undefined : effectiveUid(status);
      if (uid !== undefined) {
        process.uid = uid;
        const user = users?.get(uid);
        if (user !== undefined) process.user = user;
      }
    }
    if (fields.oomScoreAdj) {
      const text = readIfAlive(`${dir}/oom_score_adj`);
      if (text === GONE) return undefined;
      const value = text === undefined ? NaN : Number.parseInt(text, 10);
      if (Number.isInteger(value)) process.oom_score_adj = value;
    }
    return process;
  }
}

export interface ProcStat {
  pid: number;
  name: string;
  state: string;
  ppid: number;
  flags: number;
  startTicks: number;
  rssPages: number;
}

/** /proc/PID/stat: the name sits in parentheses and may itself hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const pid = Number(text.slice(0, open - 1));
  const numbers = [rest[1], rest[6], rest[19], rest[21]].map(Number);
  if (!Number.isInteger(pid) || rest.length < 22 || numbers.some((n) => !Number.isFinite(n))) return undefined;
  const [ppid = 0, flags = 0, startTicks = 0, rssPages = 0] = numbers;
  return { pid, name: text.slice(open + 1, close), state: rest[0] ?? '?', ppid, flags, startTicks, rssPages: Math.max(0, rssPages) };
}

function cmdlineText(raw: string): string {
  return raw.replace(/\0+$/, '').replaceAll('\0', ' ');
}

function effectiveUid(status: string): number | undefined {
  const line = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  return line ? Number(line[2]) : undefined;
}

/** A process that exited while it was being read. */
const GONE = Symbol('gone');

/** The file's text; GONE when the process has exited (ENOENT, ESRCH); undefined when it hides the file. */
function readIfAlive(path: string): string | typeof GONE | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return GONE;
    if (code === 'EACCES' || code === 'EPERM') return undefined;
    throw error;
  }
}

function readBootTime(root: string): number {
  const text = readFileSync(`${root}/stat`, 'utf8');
  const match = /^btime (\d+)$/m.exec(text);
  if (!match) throw new Error(`${root}/stat has no btime line`);
  return Number(match[1]);
}

/** The page size from this process' own RSS in bytes against its RSS in pages. */
function detectPageSize(): number {
  try {
    const pages = Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]);
    const ratio = process.memoryUsage.rss() / pages;
    const size = 2 ** Math.round(Math.log2(ratio));
    return Number.isFinite(size) && size >= 4096 ? size : 4096;
  } catch {
    return 4096;
  }
}

/**
 * A live process' start time in epoch seconds, computed exactly as the collector does, so a pid
 * can be checked against its snapshot entry; undefined when no such process exists (or it is a zombie).
 */
export function readStartTime(pid: number, root = '/proc', clockTicks = 100): number | undefined {
  const stat = readIfAlive(`${root}/${pid}/stat`);
  if (stat === GONE || stat === undefined) return undefined;
  const parsed = parseProcStat(stat);
  if (!parsed || parsed.state === 'Z' || parsed.state === 'X') return undefined;
  return Math.floor(readBootTime(root) + parsed.startTicks / clockTicks);
}

/** The state letter of a live process (R, S, T, …); undefined when it has exited. */
export function readProcessState(pid: number, root = '/proc'): string | undefined {
  const stat = readIfAlive(`${root}/${pid}/stat`);
  if (stat === GONE || stat === undefined) return undefined;
  return parseProcStat(stat)?.state;
}
