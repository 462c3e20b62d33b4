// The Linux process table from /proc: one stat file per process, and cmdline, status, exe or
// oom_score_adj only when a policy needs them. A process that exits mid-read is skipped.
// `root` points it at a generated tree for tests and benchmarks.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { COMM_LENGTH, COMMAND_LINE_READ_LENGTH } from '../../data/host-index.js';
import type { ProcessEntry } from '../../data/types.js';
import { GONE, readBootTime, readIfAlive, readProcStatIfAlive, readProcTextIfAlive, readSinceBoot, startTimeOf, type ProcText } from '../../host/proc.js';
import { type LaterFields, type ProcessFields, type ProcessTableCollector } from '../types.js';
import { readUsers } from '../../host/passwd.js';

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

/**
 * Processes read between two turns of the event loop. Each turn lets the supervisors' sockets
 * connect, their requests go out and their replies in: with 256, supervisord's socket was seen
 * connected only after the first 256 processes, and its reply, ready long before, waited for the
 * end of the pass. A turn costs a few microseconds.
 */
const YIELD_EVERY = 64;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** PF_KTHREAD in stat's flags. */
const KERNEL_THREAD_FLAG = 0x00200000;

export class ProcfsCollector implements ProcessTableCollector {
  readonly name = 'procfs';
  /** Where /proc is: meminfo and pressure/ are read under it too. */
  readonly root: string;
  private readonly passwdPath: string;
  private readonly clockTicks: number;
  private readonly pageSize: number;
  /** The host's steady clock when the last `collect` read the process table. */
  sinceBoot: number | undefined;

  constructor(options: ProcfsOptions = {}) {
    this.root = options.root ?? '/proc';
    this.passwdPath = options.passwd ?? '/etc/passwd';
    this.clockTicks = options.clockTicks ?? 100;
    this.pageSize = options.pageSize ?? (this.root === '/proc' ? detectPageSize() : 4096);
  }

  async collect(fields: ProcessFields): Promise<ProcessEntry[]> {
    this.sinceBoot = undefined;
    const bootTime = readBootTime(this.root);
    const users = fields.user ? readUsers(this.passwdPath) : undefined;
    const processes: ProcessEntry[] = [];
    let sinceYield = 0;
    // A turn first, so the supervisors' requests are on their way while /proc is read.
    await yieldToEventLoop();
    this.sinceBoot = readSinceBoot(this.root);
    for (const entry of readdirSync(this.root)) {
      const first = entry.charCodeAt(0);
      if (first < 48 || first > 57) continue; // not a pid directory
      const process = this.readProcess(entry, bootTime, fields, users);
      if (process) processes.push(process);
      // Let the supervisors' requests go out and their replies in, and a status page answer.
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    return processes;
  }

  private readProcess(pid: string, bootTime: number, fields: ProcessFields, users: Map<number, string> | undefined): ProcessEntry | undefined {
    const dir = `${this.root}/${pid}`;
    const parsed = readProcStatIfAlive(`${dir}/stat`);
    if (parsed === GONE || parsed === undefined) return undefined;
    const process: ProcessEntry = {
      pid: parsed.pid,
      ppid: parsed.ppid,
      name: parsed.name,
      rss: parsed.rssPages * this.pageSize,
      start_time: startTimeOf(bootTime, parsed.startTicks, this.clockTicks),
      cpu_time: parsed.cpuTicks / this.clockTicks,
      state: parsed.state,
    };
    if (parsed.flags & KERNEL_THREAD_FLAG) process.kernel_thread = true;
    if (fields.cmdline || (fields.truncatedNames && parsed.name.length === COMM_LENGTH)) {
      const cmdline = readCommandLine(dir);
      if (cmdline === GONE) return undefined;
      if (cmdline !== undefined) setCommandLine(process, cmdline);
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
    if (fields.exe) this.readExe(process);
    if (fields.oomScoreAdj && this.readOomScoreAdj(process) === GONE) return undefined;
    if (fields.smaps) this.readSmapsRollup(process);
    return process;
  }

  /** The second pass: what only some processes need. A process that has exited since keeps what it had. */
  complete(processes: readonly ProcessEntry[], fields: LaterFields): void {
    for (const process of processes) {
      const dir = `${this.root}/${process.pid}`;
      if (fields.cmdline && process.cmdline === undefined) {
        const cmdline = readCommandLine(dir);
        if (cmdline === GONE) continue;
        if (cmdline !== undefined) setCommandLine(process, cmdline);
      }
      if (fields.exe && process.exe === undefined) this.readExe(process);
      if (fields.oomScoreAdj && process.oom_score_adj === undefined) this.readOomScoreAdj(process);
      if (fields.smaps && process.pss === undefined) this.readSmapsRollup(process);
    }
  }

  /**
   * Every field of these processes, read now: a program supervisord started after the snapshot
   * was taken (a restart), so that the policies can be applied to it in the same cycle.
   */
  readNow(pids: readonly number[]): ProcessEntry[] {
    const bootTime = readBootTime(this.root);
    const users = readUsers(this.passwdPath);
    const found: ProcessEntry[] = [];
    for (const pid of pids) {
      const process = this.readProcess(String(pid), bootTime, { cmdline: true, truncatedNames: true, oomScoreAdj: true, user: true, exe: true }, users);
      if (process) found.push(process);
    }
    return found;
  }

  /**
   * The executable: the link /proc/PID/exe resolves to. A binary deleted or replaced since the
   * process started reads as "PATH (deleted)"; it keeps its old path. Kernel threads have none,
   * and without root another user's is hidden (EACCES): left out.
   */
  private readExe(process: ProcessEntry): void {
    try {
      process.exe = exePath(readlinkSync(`${this.root}/${process.pid}/exe`));
    } catch {
      // exited, a kernel thread, or hidden
    }
  }

  /**
   * pss, uss (Private_Clean + Private_Dirty) and swap from smaps_rollup (Linux 4.14 and later).
   * A kernel thread's is empty, another's may be hidden: left out, as for a process that exited.
   */
  private readSmapsRollup(process: ProcessEntry): void {
    const text = readIfAlive(`${this.root}/${process.pid}/smaps_rollup`);
    if (text === GONE || text === undefined) return;
    const rollup = parseSmapsRollup(text);
    if (rollup) Object.assign(process, rollup);
  }

  private readOomScoreAdj(process: ProcessEntry): typeof GONE | undefined {
    const text = readIfAlive(`${this.root}/${process.pid}/oom_score_adj`);
    if (text === GONE) return GONE;
    const value = text === undefined ? NaN : Number.parseInt(text, 10);
    if (Number.isInteger(value)) process.oom_score_adj = value;
    return undefined;
  }
}

/** The lines of smaps_rollup procguard reads, each "Name:   1234 kB". */
const SMAPS_LINE = /^(Pss|Private_Clean|Private_Dirty|Swap):\s+(\d+) kB$/gm;

/** pss, uss and swap in bytes from smaps_rollup's text; undefined when it has no Pss line (a kernel thread's is empty). */
export function parseSmapsRollup(text: string): { pss: number; uss: number; swap: number } | undefined {
  const kb: Record<string, number> = {};
  for (const [, name, value] of text.matchAll(SMAPS_LINE)) kb[name!] = Number(value);
  if (kb.Pss === undefined) return undefined;
  return { pss: kb.Pss * 1024, uss: ((kb.Private_Clean ?? 0) + (kb.Private_Dirty ?? 0)) * 1024, swap: (kb.Swap ?? 0) * 1024 };
}

const DELETED = ' (deleted)';

/** The path of /proc/PID/exe's target, without the " (deleted)" the kernel appends to one that was unlinked. */
export function exePath(link: string): string {
  return link.endsWith(DELETED) ? link.slice(0, -DELETED.length) : link;
}

/** The command line as text (arguments joined by spaces), and whether it went on past what was read. */
function setCommandLine(process: ProcessEntry, raw: ProcText): void {
  process.cmdline = raw.text.replace(/\0+$/, '').replaceAll('\0', ' ');
  if (raw.truncated) process.cmdline_truncated = true;
}

function effectiveUid(status: string): number | undefined {
  const line = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  return line ? Number(line[2]) : undefined;
}

/** The first COMMAND_LINE_READ_LENGTH bytes of /proc/PID/cmdline, as readIfAlive. */
function readCommandLine(dir: string): ProcText | typeof GONE | undefined {
  return readProcTextIfAlive(`${dir}/cmdline`, COMMAND_LINE_READ_LENGTH);
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
