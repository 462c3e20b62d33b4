// Writes the host-wide files of a procfs-like tree (meminfo, pressure/) and a process'
// smaps_rollup, beside what writeProcfsTree writes: the collectors read them under `root`.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const KIB = 1024;
export const MIB = 1024 * KIB;

export interface FakeMeminfo {
  /** Bytes, each a multiple of 1 KiB. */
  total: number;
  available: number;
  swapTotal?: number;
  swapFree?: number;
  /** Leave out the MemAvailable line, as kernels before 3.14 do. */
  noAvailableLine?: boolean;
  free?: number;
  cached?: number;
}

export function meminfoText(m: FakeMeminfo): string {
  const kb = (bytes: number): string => `${String(bytes / KIB).padStart(8)} kB`;
  return [
    `MemTotal:       ${kb(m.total)}`,
    `MemFree:        ${kb(m.free ?? m.available / 2)}`,
    ...(m.noAvailableLine ? [] : [`MemAvailable:   ${kb(m.available)}`]),
    `Buffers:        ${kb(0)}`,
    `Cached:         ${kb(m.cached ?? m.available / 2)}`,
    `SwapCached:     ${kb(0)}`,
    `SwapTotal:      ${kb(m.swapTotal ?? 0)}`,
    `SwapFree:       ${kb(m.swapFree ?? 0)}`,
    `HugePages_Total:       0`,
    `Hugepagesize:       2048 kB`,
    '',
  ].join('\n');
}

export interface FakeAverages {
  avg10: number;
  avg60: number;
  avg300: number;
}

export function pressureText(some: FakeAverages, full?: FakeAverages): string {
  const line = (kind: string, a: FakeAverages): string => `${kind} avg10=${a.avg10.toFixed(2)} avg60=${a.avg60.toFixed(2)} avg300=${a.avg300.toFixed(2)} total=12345\n`;
  return line('some', some) + (full ? line('full', full) : '');
}

export interface FakeHost {
  meminfo?: FakeMeminfo;
  /** The text of each pressure file; `null` for a kernel without PSI (no pressure/ directory). */
  pressure?: { cpu?: string; io?: string; memory?: string } | null;
}

export async function writeHostFiles(root: string, host: FakeHost): Promise<void> {
  if (host.meminfo) await writeFile(join(root, 'meminfo'), meminfoText(host.meminfo));
  else await rm(join(root, 'meminfo'), { force: true });
  await rm(join(root, 'pressure'), { recursive: true, force: true });
  if (host.pressure) {
    await mkdir(join(root, 'pressure'));
    for (const [resource, text] of Object.entries(host.pressure)) if (text !== undefined) await writeFile(join(root, 'pressure', resource), text);
  }
}

export interface FakeSmaps {
  /** Bytes, each a multiple of 1 KiB. */
  rss: number;
  pss: number;
  privateClean: number;
  privateDirty: number;
  swap?: number;
}

export function smapsRollupText(s: FakeSmaps): string {
  const kb = (bytes: number): string => `${String(bytes / KIB).padStart(8)} kB`;
  return [
    '55d0c0a00000-7ffd5f9ff000 ---p 00000000 00:00 0                          [rollup]',
    `Rss:            ${kb(s.rss)}`,
    `Pss:            ${kb(s.pss)}`,
    `Pss_Anon:       ${kb(s.pss)}`,
    `Shared_Clean:   ${kb(s.rss - s.privateClean - s.privateDirty)}`,
    `Shared_Dirty:   ${kb(0)}`,
    `Private_Clean:  ${kb(s.privateClean)}`,
    `Private_Dirty:  ${kb(s.privateDirty)}`,
    `Swap:           ${kb(s.swap ?? 0)}`,
    `SwapPss:        ${kb(s.swap ?? 0)}`,
    '',
  ].join('\n');
}

export async function writeSmapsRollup(root: string, pid: number, smaps: FakeSmaps): Promise<void> {
  await writeFile(join(root, String(pid), 'smaps_rollup'), smapsRollupText(smaps));
}
