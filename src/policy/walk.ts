// Safe walks over file data that may not match the schema yet: the cross-file checks
// run on every parsed file, so that one broken file does not hide the others' problems.

import type { ParsedFile, PathSegment } from './yaml-source.js';

export type Data = Record<string, unknown>;

export function isRecord(value: unknown): value is Data {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export interface Entry {
  file: ParsedFile;
  /** Path of the entry inside its file's data. */
  path: PathSegment[];
  value: Data;
}

export interface NamedEntry extends Entry {
  name: string;
}

/** Every mapping entry of a named section (supervisors, notifiers) across the files. */
export function namedSection(files: readonly ParsedFile[], section: 'supervisors' | 'notifiers'): NamedEntry[] {
  const entries: NamedEntry[] = [];
  for (const file of files) {
    const map = isRecord(file.data) ? file.data[section] : undefined;
    if (!isRecord(map)) continue;
    for (const [name, value] of Object.entries(map)) {
      if (isRecord(value)) entries.push({ file, path: [section, name], value, name });
    }
  }
  return entries;
}

/** Every policy mapping across the files, in file order. */
export function policyEntries(files: readonly ParsedFile[]): Entry[] {
  const entries: Entry[] = [];
  for (const file of files) {
    const list = isRecord(file.data) ? file.data.policies : undefined;
    if (!Array.isArray(list)) continue;
    list.forEach((value, index) => {
      if (isRecord(value)) entries.push({ file, path: ['policies', index], value });
    });
  }
  return entries;
}

/** The match of a policy and every nested exclude, each with its path. */
export function matchBlocks(policy: Entry): Entry[] {
  const blocks: Entry[] = [];
  let value = policy.value.match;
  let path: PathSegment[] = [...policy.path, 'match'];
  while (isRecord(value)) {
    blocks.push({ file: policy.file, path, value });
    value = value.exclude;
    path = [...path, 'exclude'];
  }
  return blocks;
}

/** A string or a list of strings as a list of [item, path] pairs; anything else is skipped. */
export function stringItems(value: unknown, path: PathSegment[]): Array<[string, PathSegment[]]> {
  if (typeof value === 'string') return [[value, path]];
  if (!Array.isArray(value)) return [];
  return value.flatMap((item, index): Array<[string, PathSegment[]]> => (typeof item === 'string' ? [[item, [...path, index]]] : []));
}

export function policyLabel(policy: Entry): string {
  const name = policy.value.name;
  const index = policy.path[1];
  return typeof name === 'string' ? `policy "${name}"` : `policy #${Number(index) + 1}`;
}
