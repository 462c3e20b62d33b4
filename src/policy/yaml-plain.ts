// The fast path for the common policy file: plain YAML (mappings, lists and scalars, with no
// anchors, aliases, tags, merge keys or directives) that parses without a problem. js-yaml reads
// it into a flat list of events, several times faster than a full document model; the events
// also give where each mapping, list and scalar starts, which is all a diagnostic needs.
//
// Anything else (a syntax error, a duplicate key, an alias, a tag, a second document, a key
// that is not a plain string) returns undefined and the file is read by yaml-source.ts's full
// path, whose diagnostics it keeps. On the plain files this path takes, both read the same
// data and the same positions: test/policy/yaml-plain.test.ts holds it over generated files.

import { CORE_SCHEMA, EVENT_ID, SCALAR_STYLE, constructFromEvents, getScalarValue, parseEvents, type Event, type ScalarEvent } from 'js-yaml';

/** Where one node of the file starts; `start` is undefined where this path cannot tell as yaml would (an empty value, a block scalar). */
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

/** Deeper than any policy file (yaml-source.ts refuses more than 64 levels): such a file takes the full path. */
const MAX_PLAIN_DEPTH = 64;

/** A plain key that a YAML 1.2 core schema would not read as the same string (a number, true, null, …). */
const NOT_A_PLAIN_STRING_KEY = /^(?:$|[-+.0-9~]|(?:true|false|null|True|False|Null|TRUE|FALSE|NULL)$)/;

export function readPlainYaml(text: string): PlainYaml | undefined {
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: MAX_PLAIN_DEPTH });
  } catch {
    return undefined;
  }
  const first = events[0];
  if (first?.type !== EVENT_ID.DOCUMENT || first.directives.length > 0) return undefined;
  const reader = new OutlineReader(text, events);
  const outline = reader.node(1);
  if (outline === undefined || reader.next !== events.length - 1 || events[reader.next]?.type !== EVENT_ID.POP) return undefined;
  let documents: unknown[];
  try {
    documents = constructFromEvents(events, { source: text, schema: CORE_SCHEMA, maxAliases: 0 });
  } catch {
    return undefined;
  }
  if (documents.length !== 1) return undefined;
  return { data: documents[0], outline };
}

/** Walks the events once, building the outline; undefined for anything outside plain YAML. */
class OutlineReader {
  next = 0;

  constructor(
    private readonly text: string,
    private readonly events: readonly Event[],
  ) {}

  node(index: number): OutlineNode | undefined {
    const event = this.events[index];
    if (event === undefined) return undefined;
    this.next = index + 1;
    switch (event.type) {
      case EVENT_ID.SCALAR:
        if (event.anchorStart !== -1 || event.tagStart !== -1) return undefined;
        return { start: scalarStart(event) };
      case EVENT_ID.SEQUENCE: {
        if (event.anchorStart !== -1 || event.tagStart !== -1) return undefined;
        const items: OutlineNode[] = [];
        while (this.events[this.next]?.type !== EVENT_ID.POP) {
          const item = this.node(this.next);
          if (item === undefined) return undefined;
          items.push(item);
        }
        this.next += 1;
        return { start: event.start, items };
      }
      case EVENT_ID.MAPPING: {
        if (event.anchorStart !== -1 || event.tagStart !== -1) return undefined;
        const entries = new Map<string, { key: OutlineNode; value: OutlineNode }>();
        while (this.events[this.next]?.type !== EVENT_ID.POP) {
          const keyEvent = this.events[this.next];
          if (keyEvent?.type !== EVENT_ID.SCALAR) return undefined;
          const name = getScalarValue(this.text, keyEvent);
          if (keyEvent.style === SCALAR_STYLE.PLAIN && (NOT_A_PLAIN_STRING_KEY.test(name) || name === '<<')) return undefined;
          if (entries.has(name)) return undefined;
          const key = this.node(this.next);
          if (key === undefined) return undefined;
          const value = this.node(this.next);
          if (value === undefined) return undefined;
          entries.set(name, { key, value });
        }
        this.next += 1;
        return { start: event.start, entries };
      }
      default:
        return undefined; // an alias, or a second document
    }
  }
}

/** Where yaml's node for this scalar starts: at its opening quote when quoted; unknown for an empty value or a block scalar. */
function scalarStart(event: ScalarEvent): number | undefined {
  if (event.valueStart === -1) return undefined;
  switch (event.style) {
    case SCALAR_STYLE.PLAIN:
      return event.valueStart;
    case SCALAR_STYLE.SINGLE_QUOTED:
    case SCALAR_STYLE.DOUBLE_QUOTED:
      return event.valueStart - 1;
    default:
      return undefined;
  }
}
