// The full path for YAML files: yaml's parser and document model, for files with anchors,
// aliases, merge keys or tags, and for every file with a problem, which it reports at its place
// (FILE:LINE:COL) with yaml's own wording. Loaded only when such a file is read: a plain file
// (yaml-source.ts, yaml-plain.ts) needs none of it.

import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import { diagnostic, START_OF_FILE, type Diagnostic, type Position } from './diagnostics.js';
import { depthOf, MAX_DEPTH } from './yaml-plain.js';
import type { ParsedFile, PathSegment } from './yaml-source.js';

/** Aliases expanded beyond this count are refused (a YAML "billion laughs" file). */
const MAX_ALIAS_COUNT = 100;
/** A binary or badly broken file would otherwise print thousands of lines. */
const MAX_YAML_ERRORS = 20;

const YAML_ERROR_WORDING: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'this key appears twice in the same mapping',
  MULTIPLE_DOCS: 'a policy file holds one YAML document; a second one starts here',
};

interface Located {
  document: Document.Parsed;
  lineCounter: LineCounter;
}

export function parseYamlDocument(path: string, text: string): { file: ParsedFile; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true, logLevel: 'error' });
  const file: ParsedFile = { path, document, data: undefined, templates: new Map(), where: (at, target) => locateInDocument(document, lineCounter, at, target) };
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number): Position => linePosition(lineCounter, offset);

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
 * A file's text read by yaml's parser and changed by `edit` before its data is taken (a policy
 * test file seen as a policy file, without its tests); what is left keeps the positions it was
 * written at.
 */
export function editedFile(path: string, text: string, edit: (document: Document.Parsed) => void): ParsedFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true, logLevel: 'error' });
  edit(document);
  return { path, document, data: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown, templates: new Map(), where: (at, target) => locateInDocument(document, lineCounter, at, target) };
}

/** `locate` for a file yaml's parser read. */
function locateInDocument(document: Document.Parsed, lineCounter: LineCounter, path: readonly PathSegment[], target: 'value' | 'key'): Position {
  const file = { document, lineCounter };
  let node: unknown = document.contents;
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

function linePosition(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function nodePosition(file: Located, node: unknown): Position | undefined {
  if (isPair(node)) return nodePosition(file, node.key);
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? linePosition(file.lineCounter, range[0]) : undefined;
}

function resolveAlias(file: Located, node: unknown): unknown {
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

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
