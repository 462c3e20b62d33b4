// The 1, 5 and 15-minute load averages: /proc/loadavg on Linux (a path tests can point at a
// file they write), os.loadavg() elsewhere.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export type LoadAverages = [number, number, number];

export async function readLoadAverages(path: string | undefined): Promise<LoadAverages> {
  if (path === undefined) {
    const [one = 0, five = 0, fifteen = 0] = loadavg();
    return [one, five, fifteen];
  }
  // One synchronous read: a procfs file of 30 bytes is cheaper read at once than through the thread pool.
  const text = readFileSync(path, 'utf8');
  const values = text.trim().split(/\s+/).slice(0, 3).map(Number);
  if (values.length < 3 || values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new Error(`${path} does not start with three load averages: ${JSON.stringify(text.slice(0, 40))}`);
  }
  return values as LoadAverages;
}
