// Timing helpers: the median of several runs after a warm-up, and process CPU and memory
// read from /proc for another process.

import { readFileSync } from 'node:fs';

export interface RunOptions {
  runs: number;
  warmup?: number;
}

/** The median wall time of `fn` in milliseconds. */
export async function medianMs(fn: () => unknown, { runs, warmup = 2 }: RunOptions): Promise<number> {
  for (let i = 0; i < warmup; i += 1) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(times);
}

/** The median wall times of several functions, run in turn so that each sees the same load. */
export async function alternatingMedians(fns: readonly (() => unknown)[], runs: number, warmup = 2): Promise<number[]> {
  return (await alternatingFigures(fns, runs, warmup)).map((f) => f.wall);
}

/** The median wall time and CPU time (this process' user + system) of several functions, run in turn. */
export async function alternatingFigures(fns: readonly (() => unknown)[], runs: number, warmup = 2): Promise<{ wall: number; cpu: number }[]> {
  for (let i = 0; i < warmup; i += 1) for (const fn of fns) await fn();
  const walls = fns.map(() => [] as number[]);
  const cpus = fns.map(() => [] as number[]);
  for (let i = 0; i < runs; i += 1) {
    for (const [index, fn] of fns.entries()) {
      const cpu = process.cpuUsage();
      const start = process.hrtime.bigint();
      await fn();
      walls[index]!.push(Number(process.hrtime.bigint() - start) / 1e6);
      const used = process.cpuUsage(cpu);
      cpus[index]!.push((used.user + used.system) / 1000);
    }
  }
  return walls.map((wall, index) => ({ wall: median(wall), cpu: median(cpus[index]!) }));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** User + system CPU of a process in milliseconds (clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident memory of a process in bytes (VmRSS). */
export function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

export const MIB = 1024 * 1024;
