// Pressure stall information from /proc/pressure/{cpu,io,memory} (under the procfs
// collector's root): the share of time tasks were stalled on each resource. A kernel without
// PSI has no such files (before 4.20, or built without CONFIG_PSI) or refuses to read them
// (booted with psi=0): the resource is left out and the reason is given back.

import { readFileSync } from 'node:fs';
import type { Pressure, PressureAverages } from '../../data/types.js';
import type { PressureResource } from '../../policy/host-needs.js';

export interface PressureRead {
  pressure: Pressure;
  /** Why a resource asked for is missing, in words, by resource. */
  missing: Partial<Record<PressureResource, string>>;
}

export function readPressure(root: string, resources: readonly PressureResource[]): PressureRead {
  const read: PressureRead = { pressure: {}, missing: {} };
  for (const resource of resources) {
    const path = `${root}/pressure/${resource}`;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      read.missing[resource] = noPressureReason(path, (error as NodeJS.ErrnoException).code);
      continue;
    }
    const lines = parsePressure(text);
    const some = lines.get('some');
    const full = lines.get('full');
    if (!some || (resource !== 'cpu' && !full)) {
      read.missing[resource] = `${path} has no ${some ? 'full' : 'some'} line with avg10, avg60 and avg300: ${JSON.stringify(text.slice(0, 80))}`;
    } else if (resource === 'cpu') {
      read.pressure.cpu = { some };
    } else {
      read.pressure[resource] = { some, full: full! };
    }
  }
  return read;
}

function noPressureReason(path: string, code: string | undefined): string {
  if (code === 'ENOENT') return `${path} does not exist: this kernel has no pressure stall information (PSI needs Linux 4.20 or later built with CONFIG_PSI)`;
  if (code === 'EOPNOTSUPP')
    return `${path} cannot be read (EOPNOTSUPP): pressure stall information is turned off (the kernel was booted with psi=0, or built with CONFIG_PSI_DEFAULT_DISABLED and not booted with psi=1)`;
  return `${path}: ${code ?? 'unreadable'}`;
}

/** "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" lines, by their first word. */
export function parsePressure(text: string): Map<string, PressureAverages> {
  const lines = new Map<string, PressureAverages>();
  for (const line of text.split('\n')) {
    const [kind, ...pairs] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const values = new Map(pairs.map((pair) => pair.split('=') as [string, string]));
    const averages = { avg10: Number(values.get('avg10')), avg60: Number(values.get('avg60')), avg300: Number(values.get('avg300')) };
    if (Object.values(averages).every((v) => Number.isFinite(v) && v >= 0 && v <= 100)) lines.set(kind, averages);
  }
  return lines;
}
