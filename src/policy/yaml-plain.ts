// The fast path for the common policy file: plain YAML (mappings, lists and scalars, with no
// anchors, aliases, tags, merge keys or directives) that parses without a problem. js-yaml's
// parser reads it into a flat list of events, several times faster than a full document model;
// one walk over them builds the data (scalars by the YAML 1.2 core schema, with js-yaml's own
// resolvers) and where each mapping, list and scalar starts, which is all a diagnostic needs.
//
// Anything else (a syntax error, a duplicate key, an alias, a tag, a second document, a key
// that is not a plain string) returns undefined and the file is read by yaml's full parser
// (yaml-document.ts), whose diagnostics it keeps. On the plain files this path takes, both
// read the same data and the same positions: test/policy/yaml-plain.test.ts holds it over
// generated files.

import {
  COLLECTION_STYLE,
  EVENT_ID,
  NOT_RESOLVED,
  SCALAR_STYLE,
  boolCoreTag,
  floatCoreTag,
  getScalarValue,
  intCoreTag,
  nullCoreTag,
  parseEvents,
  type Event,
  type ScalarEvent,
  type SequenceEvent,
} from 'js-yaml';

/**
 * Where one node of the file starts, as yaml's parser would place it. `start` is undefined for an
 * empty list item, which yaml leaves without a node: a path through it stays at its list.
 */
export interface OutlineNode {
  start: number | undefined;
  /** A mapping's entries by key, with where the key was written. */
  entries?: Map<string, { key: OutlineNode; value: OutlineNode }>;
  /** A list's items. */
  items?: OutlineNode[];
}

export interface PlainYaml {
  data: unknown;
  outline: OutlineNode;
}

/** Far deeper than any policy file; keeps every recursive walk after parsing safe. A deeper file takes the full path, which refuses it. */
export const MAX_DEPTH = 64;

/**
 * A plain scalar that a YAML 1.2 core schema might not read as the same string (a number, true,
 * null, …): every other one is text, whatever the resolvers would say, so they are not asked.
 */
const MAY_NOT_BE_TEXT = /^(?:$|[-+.0-9~]|(?:true|false|null|True|False|Null|TRUE|FALSE|NULL)$)/;

/** A carriage return that ends a line alone: the two parsers read such line breaks differently. */
const LONE_CARRIAGE_RETURN = /\r(?!\n)/;

export function readPlainYaml(text: string): PlainYaml | undefined {
  if (LONE_CARRIAGE_RETURN.test(text)) return undefined;
  let events: Event[];
  try {
    // js-yaml's bound keeps its own recursion short, one level past ours; the walk below holds
    // the exact one (no collection deeper than MAX_DEPTH), so no walk over the data is needed.
    events = parseEvents(text, { maxDepth: MAX_DEPTH + 1 });
  } catch {
    return undefined;
  }
  const first = events[0];
  if (first?.type !== EVENT_ID.DOCUMENT || first.directives.length > 0) return undefined;
  const reader = new OutlineReader(text, events);
  const root = reader.node(1, { as: 'root' });
  if (root === undefined || reader.next !== events.length - 1 || events[reader.next]?.type !== EVENT_ID.POP) return undefined;
  return { data: root.value, outline: root.node };
}

/** A node's outline and its value, built in the same walk. */
interface Read {
  node: OutlineNode;
  value: unknown;
}

/** What a node is to its parent: a mapping's key, the value after a key, or a list's item. */
type Place = { as: 'key' | 'root' } | { as: 'value'; key: ScalarEvent } | { as: 'item'; list: SequenceEvent; first: boolean };

/** Walks the events once, building the outline; undefined for anything outside plain YAML. */
class OutlineReader {
  next = 0;
  /** Where the last scalar read ends (after its closing quote, or after the blanks of an empty one); unknown after a flow collection. */
  private lastEnd = 0;

  constructor(
    private readonly text: string,
    private readonly events: readonly Event[],
  ) {}

  /** `depth`: the node's nesting, 1 at the root; a collection deeper than MAX_DEPTH is left to the full parser. */
  node(index: number, place: Place, depth = 1): Read | undefined {
    const event = this.events[index];
    if (event === undefined) return undefined;
    this.next = index + 1;
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        if (event.anchorStart !== -1 || event.tagStart !== -1) return undefined;
        const start = this.scalarStart(event, place);
        if (start === undefined) return undefined;
        this.lastEnd = event.valueEnd !== -1 ? event.valueEnd + (isQuoted(event) ? 1 : 0) : start;
        // As js-yaml's constructor reads a scalar: a plain one by the core schema's rules, any other as text.
        const source = getScalarValue(this.text, event);
        const value = event.style === SCALAR_STYLE.PLAIN ? plainScalar(source) : source;
        return { node: { start }, value };
      }
      case EVENT_ID.SEQUENCE: {
        if (event.anchorStart !== -1 || event.tagStart !== -1 || depth > MAX_DEPTH) return undefined;
        const items: OutlineNode[] = [];
        const values: unknown[] = [];
        while (this.events[this.next]?.type !== EVENT_ID.POP) {
          const item = this.node(this.next, { as: 'item', list: event, first: items.length === 0 }, depth + 1);
          if (item === undefined) return undefined;
          items.push(item.node);
          values.push(item.value);
        }
        this.next += 1;
        if (event.style === COLLECTION_STYLE.FLOW) this.lastEnd = UNKNOWN_END;
        return { node: { start: event.start, items }, value: values };
      }
      case EVENT_ID.MAPPING: {
        if (event.anchorStart !== -1 || event.tagStart !== -1 || depth > MAX_DEPTH) return undefined;
        const entries = new Map<string, { key: OutlineNode; value: OutlineNode }>();
        const mapping: Record<string, unknown> = {};
        while (this.events[this.next]?.type !== EVENT_ID.POP) {
          const keyEvent = this.events[this.next];
          if (keyEvent?.type !== EVENT_ID.SCALAR || keyEvent.valueStart === -1) return undefined;
          const name = getScalarValue(this.text, keyEvent);
          if (name === '<<' || (keyEvent.style === SCALAR_STYLE.PLAIN && MAY_NOT_BE_TEXT.test(name))) return undefined;
          if (entries.has(name)) return undefined;
          const key = this.node(this.next, { as: 'key' }, depth + 1);
          if (key === undefined) return undefined;
          const value = this.node(this.next, { as: 'value', key: keyEvent }, depth + 1);
          if (value === undefined) return undefined;
          entries.set(name, { key: key.node, value: value.node });
          // A key named __proto__ is data, as for js-yaml's and yaml's constructors, never the object's prototype.
          if (name === '__proto__') Object.defineProperty(mapping, name, { value: value.value, enumerable: true, configurable: true, writable: true });
          else mapping[name] = value.value;
        }
        this.next += 1;
        if (event.style === COLLECTION_STYLE.FLOW) this.lastEnd = UNKNOWN_END;
        return { node: { start: event.start, entries }, value: mapping };
      }
      default:
        return undefined; // an alias, or a second document
    }
  }

  /**
   * Where yaml's node for this scalar starts: at its first character when plain, at its opening
   * quote when quoted, at its `|` or `>` header when a block scalar. An empty value starts after
   * its key's colon, an empty list item after its dash, and the blanks that follow either.
   * Undefined where this path cannot tell (an empty key or document, a key without a colon).
   */
  private scalarStart(event: ScalarEvent, place: Place): number | undefined {
    switch (event.style) {
      case SCALAR_STYLE.PLAIN:
        if (event.valueStart !== -1) return event.valueStart;
        if (place.as === 'value') return this.afterIndicator(place.key.valueEnd + (isQuoted(place.key) ? 1 : 0), ':');
        if (place.as === 'item' && place.list.style === COLLECTION_STYLE.BLOCK) return this.afterIndicator(place.first ? place.list.start : this.lastEnd, '-');
        return undefined;
      case SCALAR_STYLE.SINGLE_QUOTED:
      case SCALAR_STYLE.DOUBLE_QUOTED:
        return event.valueStart - 1;
      default:
        return this.blockHeaderStart(event);
    }
  }

  /** After the indicator (`:` or `-`) that comes next from `from`, past blank lines and comments, and the blanks after it. */
  private afterIndicator(from: number, indicator: ':' | '-'): number | undefined {
    if (from === UNKNOWN_END) return undefined;
    let at = from;
    for (;;) {
      at = skipBlanks(this.text, at);
      const char = this.text[at];
      if (char === '\n' || char === '\r') at += 1;
      else if (char === '#' && indicator === '-') at = this.text.indexOf('\n', at) === -1 ? this.text.length : this.text.indexOf('\n', at);
      else break;
    }
    if (this.text[at] !== indicator) return undefined;
    return skipBlanks(this.text, at + 1);
  }

  /** The header of a block scalar: on the line before its text, after what came before it. */
  private blockHeaderStart(event: ScalarEvent): number | undefined {
    if (event.valueStart <= 0 || this.text[event.valueStart - 1] !== '\n') return undefined;
    const lineEnd = event.valueStart - 1;
    const lineStart = this.text.lastIndexOf('\n', lineEnd - 1) + 1;
    const from = Math.max(lineStart, this.lastEnd);
    const header = BLOCK_HEADER.exec(this.text.slice(from, lineEnd));
    return header ? from + header.index : undefined;
  }
}

/** The YAML 1.2 core schema's plain scalars, in the order it tries them: null, true and false, integers, floats; anything else is text. */
const CORE_PLAIN_SCALARS = [nullCoreTag, boolCoreTag, intCoreTag, floatCoreTag];

function plainScalar(source: string): unknown {
  if (!MAY_NOT_BE_TEXT.test(source)) return source;
  for (const tag of CORE_PLAIN_SCALARS) {
    const value: unknown = tag.resolve(source, false, tag.tagName);
    if (value !== NOT_RESOLVED) return value;
  }
  return source;
}

/** Where a flow collection ends is not in its events. */
const UNKNOWN_END = -1;

/** A block scalar's header to the end of its line: `|` or `>`, an indentation and a chomping indicator, a comment. */
const BLOCK_HEADER = /[|>](?:[1-9][-+]?|[-+][1-9]?)?(?:[ \t]+#.*)?[ \t\r]*$/;

function isQuoted(event: ScalarEvent): boolean {
  return event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED;
}

function skipBlanks(text: string, at: number): number {
  let index = at;
  while (text[index] === ' ' || text[index] === '\t') index += 1;
  return index;
}

/** The nesting depth of plain data, measured without recursion. */
export function depthOf(data: unknown): number {
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
