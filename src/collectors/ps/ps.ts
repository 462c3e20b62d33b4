// The process table from one `ps` call (macOS and the BSDs, where there is no /proc):
// never one call per process.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { COMMAND_LINE_READ_LENGTH } from '../../data/host-index.js';
import type { ProcessEntry } from '../../data/types.js';
import { type ProcessFields, type ProcessTableCollector } from '../types.js';
import { readUsers } from '../../host/passwd.js';
import { parseCpuTime, parseElapsed } from '../../host/ps.js';

const run = promisify(execFile);

/** ucomm before args: the accounting name holds no spaces, everything after it is the command line. */
export const PS_ARGS = ['-axww', '-o', 'pid=,ppid=,uid=,rss=,etime=,time=,stat=,ucomm=,args='];

export interface PsOptions {
  command?: string;
  passwd?: string;
  /** Epoch seconds, to turn elapsed times into start times. */
  now?: () => number;
}

export class PsCollector implements ProcessTableCollector {
  readonly name = 'ps';
  constructor(private readonly options: PsOptions = {}) {}

  async collect(fields: ProcessFields): Promise<ProcessEntry[]> {
    const { stdout } = await run(this.options.command ?? 'ps', PS_ARGS, { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
    const now = this.options.now?.() ?? Math.floor(Date.now() / 1000);
    const users = fields.user ? readUsers(this.options.passwd ?? '/etc/passwd') : undefined;
    return parsePsOutput(stdout, now, fields, users);
  }
}

export function parsePsOutput(text: string, now: number, fields: ProcessFields, users?: Map<number, string>): ProcessEntry[] {
  const processes: ProcessEntry[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s?(.*)$/.exec(line);
    if (!match) continue;
    const [, pid, ppid, uid, rssKb, etime, cpu, stat, comm = '', args = ''] = match;
    const elapsed = parseElapsed(etime ?? '');
    if (elapsed === undefined) continue;
    const cpuTime = parseCpuTime(cpu ?? '');
    const process: ProcessEntry = {
      pid: Number(pid),
      ppid: Number(ppid),
      name: comm,
      rss: Number(rssKb) * 1024,
      start_time: Math.max(0, now - elapsed),
      ...(cpuTime !== undefined ? { cpu_time: cpuTime } : {}),
      state: (stat ?? '?').charAt(0),
    };
    if (fields.cmdline || (fields.truncatedNames && comm.length >= 15)) {
      const line = args.trim();
      process.cmdline = line.slice(0, COMMAND_LINE_READ_LENGTH);
      if (line.length > COMMAND_LINE_READ_LENGTH) process.cmdline_truncated = true;
    }
    if (fields.user) {
      process.uid = Number(uid);
      const user = users?.get(process.uid);
      if (user !== undefined) process.user = user;
    }
    processes.push(process);
  }
  return processes;
}
