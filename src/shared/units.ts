// Sizes and durations as operators write them in policies and on memmon's command line.
// Every parser returns undefined for input it does not accept; callers word the error
// with SIZE_UNITS_HELP / DURATION_UNITS_HELP so the accepted units are always spelled out.

const KIB = 1024;

const SIZE_MULTIPLIERS: Readonly<Record<string, number>> = {
  kb: KIB,
  mb: KIB ** 2,
  gb: KIB ** 3,
  kib: KIB,
  mib: KIB ** 2,
  gib: KIB ** 3,
};

const DURATION_MULTIPLIERS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

export const SIZE_UNITS_HELP = 'use a number of bytes or a number with KB, MB, GB (1024-based, any case) or KiB, MiB, GiB, e.g. 200MB';
export const DURATION_UNITS_HELP = 'use a number of seconds or a whole number with s, m, h or d, e.g. 90s, 30m, 2d';

export const MEMORY_LIMIT_HELP = `${SIZE_UNITS_HELP}, or a share of the host's memory from 0% to 100%, e.g. 15%`;

const POLICY_PERCENT = /^(\d+(?:\.\d+)?)\s*%$/;

/** A percentage as written: "15%", "12.5%"; undefined for anything else. Not bounded: callers say what is too much. */
export function parsePercent(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = POLICY_PERCENT.exec(value.trim());
  return m ? Number(m[1]) : undefined;
}

/** A memory limit: bytes, or a share of the host's memory. */
export type MemoryLimit = { bytes: number } | { percent: number };

/** A memory limit as written: a size (parseSize) or a share of the host's memory up to 100%. */
export function parseMemoryLimit(value: unknown): MemoryLimit | undefined {
  const percent = parsePercent(value);
  if (percent !== undefined) return percent <= 100 ? { percent } : undefined;
  const bytes = parseSize(value);
  return bytes === undefined ? undefined : { bytes };
}

/** The bytes a limit stands for on a host with `total` bytes of memory (undefined when a share and total is unknown). */
export function limitBytes(limit: MemoryLimit, total: number | undefined): number | undefined {
  if ('bytes' in limit) return limit.bytes;
  return total === undefined ? undefined : Math.floor((total * limit.percent) / 100);
}

/** "15%" or "200.0 MiB": the limit as the policy wrote it. */
export function formatMemoryLimit(limit: MemoryLimit): string {
  return 'bytes' in limit ? formatBytes(limit.bytes) : `${limit.percent}%`;
}

const POLICY_SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i;
const POLICY_DURATION = /^(\d+)\s*([a-z]+)?$/i;

/** A size in a policy file: bytes as an integer, or "200MB", "1.5GiB", "512kb". */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = POLICY_SIZE.exec(value.trim());
  if (!m) return undefined;
  const [, digits = '', unit] = m;
  if (unit === undefined) return digits.includes('.') ? undefined : toSafeInteger(Number(digits));
  const multiplier = SIZE_MULTIPLIERS[unit.toLowerCase()];
  if (multiplier === undefined) return undefined;
  return toSafeInteger(Math.floor(Number(digits) * multiplier));
}

/** A duration in a policy file, in seconds: an integer, or "90s", "30m", "6h", "2d". */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = POLICY_DURATION.exec(value.trim());
  if (!m) return undefined;
  const [, digits = '', unit] = m;
  const multiplier = unit === undefined ? 1 : DURATION_MULTIPLIERS[unit.toLowerCase()];
  if (multiplier === undefined) return undefined;
  return toSafeInteger(Number(digits) * multiplier);
}

// memmon's SuffixMultiplier: lower-case the text, strip one known suffix, int() the rest.
const MEMMON_SIZE = /^(\d+)(kb|mb|gb)?$/;
const MEMMON_UPTIME = /^(\d+)([smhd])?$/;

/** memmon's -p/-g/-a size: integer with an optional kb/mb/gb suffix (any case), 1024-based. */
export function parseMemmonSize(text: string): number | undefined {
  const m = MEMMON_SIZE.exec(text.toLowerCase());
  if (!m) return undefined;
  const [, digits = '', unit] = m;
  return toSafeInteger(Number(digits) * (unit === undefined ? 1 : (SIZE_MULTIPLIERS[unit] ?? NaN)));
}

/** memmon's -u uptime: integer with an optional s/m/h/d suffix (any case), in seconds. */
export function parseMemmonUptime(text: string): number | undefined {
  const m = MEMMON_UPTIME.exec(text.toLowerCase());
  if (!m) return undefined;
  const [, digits = '', unit] = m;
  return toSafeInteger(Number(digits) * (unit === undefined ? 1 : (DURATION_MULTIPLIERS[unit] ?? NaN)));
}

/** Bytes for people: "512 B", "2.2 MiB", "1.0 GiB". */
export function formatBytes(bytes: number): string {
  if (bytes < KIB) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / KIB;
  let index = 0;
  while (value >= KIB && index < units.length - 1) {
    value /= KIB;
    index += 1;
  }
  return `${value.toFixed(1)} ${units[index]}`;
}

/** Seconds for people, largest units first: "45s", "1h30m", "2d". */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.floor(seconds);
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join('');
}

function toSafeInteger(value: number): number | undefined {
  return Number.isSafeInteger(value) ? value : undefined;
}

/** "80%", "12.5%": a percentage with one decimal at most, none when whole. */
export function formatPercent(value: number): string {
  return `${Number(value.toFixed(1))}%`;
}
