// One policy file parsed with positions kept, so any path into its data can be
// turned back into the line and column the operator typed it at. A plain file is read by the
// fast path (yaml-plain.ts); the rest, and every file with a problem, by yaml's full parser.

import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import { diagnostic, START_OF_FILE, type Diagnostic, type Position } from './diagnostics.js';
import { readPlainYaml, type OutlineNode } from './yaml-plain.js';

export interface ParsedFile {
  /** The path as the operator gave it or as found in a directory. */
  path: string;
  /** yaml's document model; for a file the fast path read, parsed when first asked for. */
  readonly document: Document.Parsed;
  readonly lineCounter: LineCounter;
  /** Where each node starts, when the fast path read the file. */
  readonly outline?: OutlineNode;
  /** The plain data, or undefined when the file could not be parsed. */
  data: unknown;
  /** Template files it names (mail body_file), keyed by the path as written; filled by the loader. */
  templates: Map<string, TemplateFile>;
}

/** A template file named by a policy file: its text, or why it could not be read. */
export type TemplateFile = { path: string; text: string } | { path: string; error: string };

export type PathSegment = string | number;

/** Aliases expanded beyond this count are refused (a YAML "billion laughs" file). */
const MAX_ALIAS_COUNT = 100;
/** Far deeper than any policy file; keeps every recursive walk after parsing safe. */
export const MAX_DEPTH = 64;
/** A binary or badly broken file would otherwise print thousands of lines. */
const MAX_YAML_ERRORS = 20;

const YAML_ERROR_WORDING: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'this key appears twice in the same mapping',
  MULTIPLE_DOCS: 'a policy file holds one YAML document; a second one starts here',
};

export function parseYamlFile(path: string, text: string): { file: ParsedFile; diagnostics: Diagnostic[] } {
  const plain = readPlainYaml(text);
  if (plain !== undefined && depthOf(plain.data) <= MAX_DEPTH) return { file: plainFile(path, text, plain.data, plain.outline), diagnostics: [] };
  return parseYamlDocument(path, text);
}

/** A file read by the fast path: yaml's document and line counter are made only if something asks for them. */
function plainFile(path: string, text: string, data: unknown, outline: OutlineNode): ParsedFile {
  let document: Document.Parsed | undefined;
  let lineCounter: LineCounter | undefined;
  return {
    path,
    data,
    outline,
    templates: new Map(),
    get document() {
      return (document ??= parseWithPositions(text).document);
    },
    get lineCounter() {
      return (lineCounter ??= countLines(text));
    },
  };
}

/** The line starts yaml's parser would have recorded: the start of the text and after every line feed. */
function countLines(text: string): LineCounter {
  const counter = new LineCounter();
  counter.addNewLine(0);
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) counter.addNewLine(at + 1);
  return counter;
}

function parseWithPositions(text: string): { document: Document.Parsed; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true, logLevel: 'error' });
  return { document, lineCounter };
}

/** The full path: yaml's parser, with every syntax problem reported at its place. Exported for the test that compares both paths. */
export function parseYamlDocument(path: string, text: string): { file: ParsedFile; diagnostics: Diagnostic[] } {
  const { document, lineCounter } = parseWithPositions(text);
  const file: ParsedFile = { path, document, lineCounter, data: undefined, templates: new Map() };
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number): Position => offsetPosition(lineCounter, offset);

  for (const error of document.errors.slice(0, MAX_YAML_ERRORS)) {
    const message = /call stack/i.test(error.message) ? `the file nests too deeply (at most ${MAX_DEPTH} levels)` : (YAML_ERROR_WORDING[error.code] ?? firstLine(error.message));
    diagnostics.push(diagnostic(path, at(error.pos[0]), 'error', 'yaml-syntax', `YAML: ${message}`));
  }
  if (document.errors.length > MAX_YAML_ERRORS) {
    const more = document.errors.length - MAX_YAML_ERRORS;
    const last = document.errors[MAX_YAML_ERRORS - 1]?.pos[0] ?? 0;
    diagnostics.push(diagnostic(path, at(last), 'error', 'yaml-syntax', `YAML: ${more} more syntax errors after this one are not shown`));
  }
  for (const warning of document.warnings) {
    diagnostics.push(diagnostic(path, at(warning.pos[0]), 'warning', 'yaml-warning', `YAML: ${firstLine(warning.message)}`));
  }
  if (document.errors.length > 0) return { file, diagnostics };

  const referenceProblems = aliasProblems(document, at);
  if (referenceProblems.length > 0) {
    diagnostics.push(...referenceProblems.map(({ position, message }) => diagnostic(path, position, 'error', 'yaml-syntax', message)));
    return { file, diagnostics };
  }
  try {
    const data: unknown = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    if (depthOf(data) > MAX_DEPTH) {
      diagnostics.push(diagnostic(path, START_OF_FILE, 'error', 'yaml-syntax', `The file nests too deeply (more than ${MAX_DEPTH} levels of mappings and lists)`));
      return { file, diagnostics };
    }
    file.data = data;
  } catch (error) {
    const message = error instanceof Error ? firstLine(error.message) : String(error);
    const reason = /excessive alias count/i.test(message)
      ? `YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} times); write the values out or use fewer nested aliases`
      : error instanceof RangeError
        ? `The file nests too deeply (more than ${MAX_DEPTH} levels of mappings and lists)`
        : `YAML: ${message}`;
    diagnostics.push(diagnostic(path, START_OF_FILE, 'error', 'yaml-syntax', reason));
  }
  return { file, diagnostics };
}

/**
 * Where the value at `path` was written; with `key`, where its key was written.
 * A path that leaves the written document (a default, a merged alias) stops at the last node found.
 */
export function locate(file: ParsedFile, path: readonly PathSegment[], target: 'value' | 'key' = 'value'): Position {
  const offset = file.outline !== undefined ? outlineOffset(file.outline, path, target) : undefined;
  if (offset !== undefined) return offsetPosition(file.lineCounter, offset);
  let node: unknown = file.document.contents;
  let position = nodePosition(file, node) ?? START_OF_FILE;
  for (const [index, segment] of path.entries()) {
    node = resolveAlias(file, node);
    let next: unknown;
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item: Pair) => keyText(item.key) === String(segment));
      if (pair) {
        next = pair.value ?? pair.key;
        keyNode = pair.key;
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (next === undefined) return position;
    const isLast = index === path.length - 1;
    const chosen = isLast && target === 'key' && keyNode !== undefined ? keyNode : next;
    position = nodePosition(file, chosen) ?? position;
    node = next;
  }
  return position;
}

/**
 * The offset `locate` finds through the fast path's outline, or undefined when a node on the way
 * has no start this path can tell (an empty value, a block scalar): yaml's document then answers.
 */
function outlineOffset(outline: OutlineNode, path: readonly PathSegment[], target: 'value' | 'key'): number | undefined {
  let node = outline;
  let position = node.start;
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
    if (chosen.start === undefined) return undefined;
    position = chosen.start;
    node = next;
  }
  return position;
}

export function offsetPosition(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function nodePosition(file: ParsedFile, node: unknown): Position | undefined {
  if (isPair(node)) return nodePosition(file, node.key);
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? offsetPosition(file.lineCounter, range[0]) : undefined;
}

function resolveAlias(file: ParsedFile, node: unknown): unknown {
  return isAlias(node) ? node.resolve(file.document) : node;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

/** Aliases without an anchor before them, and merge keys (<<) that do not merge a mapping. */
function aliasProblems(document: Document.Parsed, at: (offset: number) => Position): Array<{ position: Position; message: string }> {
  const problems: Array<{ position: Position; message: string }> = [];
  const offset = (node: unknown) => (node as YamlNode | null | undefined)?.range?.[0] ?? 0;
  try {
    visit(document, {
      Alias(_, alias) {
        if (alias.resolve(document) === undefined) {
          problems.push({ position: at(offset(alias)), message: `YAML: alias *${alias.source} has no anchor &${alias.source} before it` });
        }
      },
      Pair(_, pair) {
        // With merge keys on, yaml gives a << key the value Symbol(<<).
        if (!isScalar(pair.key) || pair.key.source !== '<<') return;
        const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
        for (const source of sources) {
          const merged = isAlias(source) ? source.resolve(document) : source;
          if (merged !== undefined && !isMap(merged)) {
            problems.push({ position: at(offset(pair.key)), message: 'YAML: a merge key (<<) must merge a mapping or an alias of a mapping' });
          }
        }
      },
    });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    problems.push({ position: START_OF_FILE, message: `The file nests too deeply (more than ${MAX_DEPTH} levels of mappings and lists)` });
  }
  return problems;
}

/** The nesting depth of plain data, measured without recursion. */
function depthOf(data: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[data, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_DEPTH) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
