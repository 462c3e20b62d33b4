// One policy file parsed with positions kept, so any path into its data can be turned back
// into the line and column the operator typed it at. A plain file (mappings, lists and scalars
// that parse cleanly) is read by the fast path, yaml-plain.ts; anything else, and every file
// with a problem, by yaml's full parser (yaml-document.ts), loaded only then.

import type { Document } from 'yaml';
import type { Diagnostic, Position } from './diagnostics.js';
import { readPlainYaml, type OutlineNode } from './yaml-plain.js';

export interface ParsedFile {
  /** The path as the operator gave it or as found in a directory. */
  path: string;
  /** The plain data, or undefined when the file could not be parsed. */
  data: unknown;
  /** Template files it names (mail body_file), keyed by the path as written; filled by the loader. */
  templates: Map<string, TemplateFile>;
  /** Where the value (or its key) at a path into the data was written: see `locate`. */
  readonly where: (path: readonly PathSegment[], target: 'value' | 'key') => Position;
  /** yaml's document model, for a file yaml's parser read. */
  readonly document?: Document.Parsed;
}

/** A template file named by a policy file: its text, or why it could not be read. */
export type TemplateFile = { path: string; text: string } | { path: string; error: string };

export type PathSegment = string | number;

let fullParser: typeof import('./yaml-document.js') | undefined;

export async function parseYamlFile(path: string, text: string): Promise<{ file: ParsedFile; diagnostics: Diagnostic[] }> {
  const plain = readPlainFile(path, text);
  if (plain !== undefined) return { file: plain, diagnostics: [] };
  await loadFullYamlParser();
  return fullParser!.parseYamlDocument(path, text);
}

/** Loads yaml's full parser, for code that then reads files with parseYamlFileSync. */
export async function loadFullYamlParser(): Promise<void> {
  fullParser ??= await import('./yaml-document.js');
}

/** parseYamlFile, for code that has awaited loadFullYamlParser. */
export function parseYamlFileSync(path: string, text: string): { file: ParsedFile; diagnostics: Diagnostic[] } {
  const plain = readPlainFile(path, text);
  if (plain !== undefined) return { file: plain, diagnostics: [] };
  if (fullParser === undefined) throw new Error('parseYamlFileSync: loadFullYamlParser() was not awaited');
  return fullParser.parseYamlDocument(path, text);
}

function readPlainFile(path: string, text: string): ParsedFile | undefined {
  const plain = readPlainYaml(text);
  return plain !== undefined ? plainFile(path, text, plain.data, plain.outline) : undefined;
}

/**
 * Where the value at `path` was written; with `key`, where its key was written.
 * A path that leaves the written document (a default, a merged alias) stops at the last node found.
 */
export function locate(file: ParsedFile, path: readonly PathSegment[], target: 'value' | 'key' = 'value'): Position {
  return file.where(path, target);
}

function plainFile(path: string, text: string, data: unknown, outline: OutlineNode): ParsedFile {
  let lineStarts: number[] | undefined;
  return {
    path,
    data,
    templates: new Map(),
    where: (at, target) => linePosition((lineStarts ??= lineStartsOf(text)), outlineOffset(outline, at, target)),
  };
}

/** As yaml's document answers `locate`, through the outline the fast path made. */
function outlineOffset(outline: OutlineNode, path: readonly PathSegment[], target: 'value' | 'key'): number {
  let node = outline;
  let position = node.start ?? 0;
  for (const [index, segment] of path.entries()) {
    let next: OutlineNode | undefined;
    let keyNode: OutlineNode | undefined;
    if (node.entries !== undefined) {
      const entry = node.entries.get(String(segment));
      next = entry?.value;
      keyNode = entry?.key;
    } else if (node.items !== undefined && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (next === undefined) return position;
    const chosen = index === path.length - 1 && target === 'key' && keyNode !== undefined ? keyNode : next;
    position = chosen.start ?? position;
    node = next;
  }
  return position;
}

/** The offsets where lines start, as yaml's parser records them: the start of the text and after every line feed. */
function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  return starts;
}

/** Line and column (both from 1) of an offset. */
function linePosition(lineStarts: readonly number[], offset: number): Position {
  let low = 0;
  let high = lineStarts.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((lineStarts[middle] ?? 0) <= offset) low = middle + 1;
    else high = middle;
  }
  return { line: low, column: offset - (lineStarts[low - 1] ?? 0) + 1 };
}
