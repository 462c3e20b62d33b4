// The host's memory from /proc/meminfo (under the procfs collector's root, so tests and
// benchmarks read a generated tree): total, available and swap, in bytes.

import { readFileSync } from 'node:fs';
import type { HostMemory } from '../../data/types.js';

export function readHostMemory(root: string): HostMemory {
  const path = `${root}/meminfo`;
  const fields = parseMeminfo(readFileSync(path, 'utf8'));
  const field = (name: string): number => {
    const value = fields.get(name);
    if (value === undefined) throw new Error(`${path} has no ${name} line`);
    return value;
  };
  // MemAvailable came with Linux 3.14; before it, what was free or only cached is the estimate.
  const available = fields.get('MemAvailable') ?? field('MemFree') + (fields.get('Buffers') ?? 0) + (fields.get('Cached') ?? 0);
  return { total: field('MemTotal'), available, swap_total: field('SwapTotal'), swap_free: field('SwapFree') };
}

/** "Name:   1234 kB" lines as bytes; a line without a unit (HugePages_Total) is a count, kept as is. */
export function parseMeminfo(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([^:\s]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (match) fields.set(match[1]!, Number(match[2]) * (line.trimEnd().endsWith('kB') ? 1024 : 1));
  }
  return fields;
}
