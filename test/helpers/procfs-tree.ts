// Writes a procfs-like tree (stat, status, cmdline, oom_score_adj, exe per pid, and /stat with
// btime) for the procfs collector's `root` option: tests and benchmarks on known processes.

import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeProcess {
  pid: number;
  ppid: number;
  comm: string;
  state?: string;
  /** Pages of 4096 bytes. */
  rssPages: number;
  /** Clock ticks (100 per second) after boot. */
  startTicks: number;
  /** Clock ticks of CPU used in user and in kernel mode (stat's utime and stime); 5 and 3 unless told. */
  utimeTicks?: number;
  stimeTicks?: number;
  uid?: number;
  argv?: string[];
  oomScoreAdj?: number;
  /** Where the exe link points, as the kernel shows it (e.g. "/usr/sbin/sshd (deleted)"); no link when absent. */
  exe?: string;
  kernelThread?: boolean;
  /** Only the directory, no files: a process that exited while being read. */
  vanished?: boolean;
}

export const BOOT_TIME = 1795000000;

export function statLine(p: FakeProcess): string {
  const flags = p.kernelThread ? 0x00200000 | 0x40 : 0x400000;
  // fields 3..24 of proc(5); the rest are not read
  const fields = [p.state ?? 'S', p.ppid, p.pid, p.pid, 0, -1, flags, 100, 0, 0, 0, p.utimeTicks ?? 5, p.stimeTicks ?? 3, 0, 0, 20, 0, 1, 0, p.startTicks, 1000000, p.rssPages];
  return `${p.pid} (${p.comm}) ${fields.join(' ')} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n`;
}

export async function writeProcfsTree(processes: readonly FakeProcess[], root?: string): Promise<string> {
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'procguard-proc-')));
  await writeFile(join(dir, 'stat'), `cpu  1 2 3 4\nbtime ${BOOT_TIME}\nprocesses 100\n`);
  await writeFile(join(dir, 'loadavg'), '0.50 0.40 0.30 1/100 12345\n');
  await mkdir(join(dir, 'self'), { recursive: true });
  for (const p of processes) {
    const pidDir = join(dir, String(p.pid));
    await mkdir(pidDir, { recursive: true });
    if (p.vanished) continue;
    const uid = p.uid ?? 0;
    await writeFile(join(pidDir, 'stat'), statLine(p));
    await writeFile(join(pidDir, 'status'), `Name:\t${p.comm}\nState:\t${p.state ?? 'S'}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t0\t0\t0\t0\n`);
    await writeFile(join(pidDir, 'cmdline'), p.argv ? `${p.argv.join('\0')}\0` : '');
    await writeFile(join(pidDir, 'oom_score_adj'), `${p.oomScoreAdj ?? 0}\n`);
    await rm(join(pidDir, 'exe'), { force: true });
    if (p.exe !== undefined) await symlink(p.exe, join(pidDir, 'exe'));
  }
  return dir;
}

/** /proc/uptime: seconds since boot (the steady clock CPU rates are measured on), and idle seconds. */
export async function writeUptime(root: string, seconds: number): Promise<void> {
  await writeFile(join(root, 'uptime'), `${seconds.toFixed(2)} ${(seconds * 1.5).toFixed(2)}\n`);
}
