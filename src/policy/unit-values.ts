// Sizes and durations of policy files, parsed once: the schema's `size` and `duration` formats
// (formats.ts), the cross-file checks and the normalizer all read the number parsed the first
// time a text was seen, never parsing it again. Numbers written as numbers need no parsing.

import { parseDuration, parseMemoryLimit, parseSize, type MemoryLimit } from '../shared/units.js';
import type { Data } from './walk.js';

/** Distinct texts remembered per unit: far more than any configuration writes; the oldest go first. */
const REMEMBERED = 4096;

let textsParsed = 0;
const sizes = new Map<string, number | undefined>();
const durations = new Map<string, number | undefined>();

function parsedOnce(memo: Map<string, number | undefined>, parse: (value: unknown) => number | undefined, value: unknown): number | undefined {
  if (typeof value !== 'string') return parse(value);
  if (memo.has(value)) return memo.get(value);
  const parsed = parse(value);
  textsParsed += 1;
  if (memo.size >= REMEMBERED) memo.delete(memo.keys().next().value as string);
  memo.set(value, parsed);
  return parsed;
}

/** Bytes of a size as written ("200MB", 1048576); undefined when it is not one. */
export function sizeOf(value: unknown): number | undefined {
  return parsedOnce(sizes, parseSize, value);
}

/** Seconds of a duration as written ("90s", 60); undefined when it is not one. */
export function durationOf(value: unknown): number | undefined {
  return parsedOnce(durations, parseDuration, value);
}

/** Bytes of the size at data[key]; undefined when absent or not a size. */
export function sizeAt(data: Data, key: string): number | undefined {
  return sizeOf(data[key]);
}

/** Seconds of the duration at data[key]; undefined when absent or not a duration. */
export function durationAt(data: Data, key: string): number | undefined {
  return durationOf(data[key]);
}

/** How many times a text has been parsed since start (for the test that each is parsed once). */
export function textsParsedSoFar(): number {
  return textsParsed;
}

/** A memory limit at data[key] (a size, or N% of the host's memory); undefined when absent or not one. */
export function memoryLimitAt(data: Data, key: string): MemoryLimit | undefined {
  const value = data[key];
  if (typeof value === 'string' && value.trim().endsWith('%')) return parseMemoryLimit(value);
  const bytes = sizeOf(value);
  return bytes === undefined ? undefined : { bytes };
}
