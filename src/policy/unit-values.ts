// Sizes and durations of a policy file, parsed once: the cross-file checks and the normalizer
// read the same number for the same key of the same mapping, never parsing the text again.

import { parseDuration, parseSize } from '../shared/units.js';
import type { Data } from './walk.js';

const parsed = new WeakMap<Data, Map<string, number | undefined>>();

function valueAt(data: Data, key: string, parse: (value: unknown) => number | undefined): number | undefined {
  let values = parsed.get(data);
  if (!values) {
    values = new Map();
    parsed.set(data, values);
  }
  if (!values.has(key)) values.set(key, parse(data[key]));
  return values.get(key);
}

/** Bytes of the size at data[key]; undefined when absent or not a size. */
export function sizeAt(data: Data, key: string): number | undefined {
  return valueAt(data, key, parseSize);
}

/** Seconds of the duration at data[key]; undefined when absent or not a duration. */
export function durationAt(data: Data, key: string): number | undefined {
  return valueAt(data, key, parseDuration);
}
