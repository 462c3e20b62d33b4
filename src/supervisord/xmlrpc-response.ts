// Decodes an XML-RPC methodResponse: the one supervisord sends every cycle. xmlrpc's
// deserializer (a sax stream) took about 17 ms of CPU for getAllProcessInfo with 100 programs,
// a third of a daemon cycle. This reads the same subset of XML-RPC in one pass over the text,
// by position: no token list and no regular expression per tag, since the reply is decoded
// every cycle; a struct member written as supervisord writes nearly all of them (a string or
// an int, nothing to decode) is read by one expression instead of tag by tag. Requests are
// written by xmlrpc-request.ts. Anything outside the XML-RPC grammar is an XmlRpcFormatError
// that says where.

export class XmlRpcFormatError extends Error {}

export interface XmlRpcFault {
  faultCode: number;
  faultString: string;
}

export type XmlRpcResponse = { value: unknown } | { fault: XmlRpcFault };

type TokenKind = 'open' | 'close' | 'empty' | 'text' | 'end';

/** The token `peek` found: a tag, a run of text (CDATA included, comments and `<?…?>` left out), or the end. */
interface Token {
  kind: TokenKind;
  name: string;
  text: string;
  at: number;
  /** Where the text goes on after it. */
  end: number;
}

const LT = 60; // <
const GT = 62; // >
const SLASH = 47; // /
const QUESTION = 63; // ?
const BANG = 33; // !

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/** A character of a tag name after the first: [\w.:-]. */
function isNameChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code === 46 || code === 58 || code === 45;
}

function isNameStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95;
}

class Reader {
  private position = 0;
  /** The token found at `peeked.from`, kept until it is taken or the position moves. */
  private readonly peeked: Token & { from: number } = { kind: 'end', name: '', text: '', at: 0, end: 0, from: -1 };

  constructor(private readonly xml: string) {}

  /**
   * The markup at `at` (a `<`): how far a comment, `<?…?>` or CDATA goes (kind 'text' for CDATA,
   * 'end' for the others), or a tag. A `<` that starts none of them is an error.
   */
  private markup(at: number, token: Token): void {
    const xml = this.xml;
    const next = xml.charCodeAt(at + 1);
    let close = -1;
    if (next === QUESTION) close = xml.indexOf('?>', at + 2) + 2;
    else if (next === BANG && xml.startsWith('<!--', at)) close = xml.indexOf('-->', at + 4) + 3;
    else if (next === BANG && xml.startsWith('<![CDATA[', at)) {
      const stop = xml.indexOf(']]>', at + 9);
      if (stop !== -1) {
        token.kind = 'text';
        token.text = xml.slice(at + 9, stop);
        token.end = stop + 3;
        return;
      }
    } else if (next !== BANG) {
      let cursor = at + 1;
      const slash = xml.charCodeAt(cursor) === SLASH;
      if (slash) cursor += 1;
      const nameAt = cursor;
      if (isNameStart(xml.charCodeAt(cursor))) {
        cursor += 1;
        while (isNameChar(xml.charCodeAt(cursor))) cursor += 1;
        const nameEnd = cursor;
        // Spaces after the name are rare: the regular expression only for them.
        while (cursor < xml.length && xml.charCodeAt(cursor) !== GT && /\s/.test(xml[cursor]!)) cursor += 1;
        const selfClosing = xml.charCodeAt(cursor) === SLASH;
        if (selfClosing) cursor += 1;
        if (xml.charCodeAt(cursor) === GT) {
          token.kind = slash ? 'close' : selfClosing ? 'empty' : 'open';
          token.name = xml.slice(nameAt, nameEnd);
          token.end = cursor + 1;
          return;
        }
      }
    }
    if (close <= 1) throw new XmlRpcFormatError(`a stray "<" at offset ${at}`);
    token.kind = 'end';
    token.end = close;
  }

  /**
   * The text from `from` to the next tag: runs of characters (entities decoded) and CDATA,
   * comments and `<?…?>` left out. Fills `token` with it and the tag (or end) after it.
   */
  private textAndTag(from: number, token: Token): string {
    const xml = this.xml;
    let text = '';
    let cursor = from;
    for (;;) {
      const lt = xml.indexOf('<', cursor);
      const stop = lt === -1 ? xml.length : lt;
      if (stop > cursor) text += decodeEntities(xml.slice(cursor, stop), cursor);
      if (lt === -1) {
        token.kind = 'end';
        token.end = xml.length;
        token.at = xml.length;
        return text;
      }
      this.markup(lt, token);
      if (token.kind === 'text') text += token.text;
      else if (token.kind !== 'end') {
        token.at = lt;
        return text;
      }
      cursor = token.end;
    }
  }

  /** The next token, skipping whitespace (and comments) between elements. */
  peek(): Token {
    const token = this.peeked;
    if (token.from === this.position) return token;
    token.from = this.position;
    const xml = this.xml;
    let cursor = this.position;
    while (isSpace(xml.charCodeAt(cursor))) cursor += 1;
    // The usual case: whitespace, then a tag.
    if (xml.charCodeAt(cursor) === LT) {
      this.markup(cursor, token);
      if (token.kind !== 'text' && token.kind !== 'end') {
        token.at = cursor;
        return token;
      }
    }
    if (cursor === xml.length) {
      token.kind = 'end';
      token.at = token.end = cursor;
      return token;
    }
    // Text, CDATA or a comment: the whole run of text up to the next tag, skipped when it is only whitespace.
    const text = this.textAndTag(this.position, token);
    if (text.trim() === '') return token;
    const textAt = this.position;
    const tagAt = token.at;
    token.kind = 'text';
    token.text = text;
    token.at = textAt;
    token.end = tagAt;
    return token;
  }

  private take(token: Token): void {
    this.position = token.end;
  }

  open(name: string): void {
    const token = this.peek();
    if (token.kind !== 'open' || token.name !== name) throw unexpected(token, `<${name}>`);
    this.take(token);
  }

  close(name: string): void {
    const token = this.peek();
    if (token.kind !== 'close' || token.name !== name) throw unexpected(token, `</${name}>`);
    this.take(token);
  }

  /** Whether the next element opens `name`. */
  opens(name: string): boolean {
    const token = this.peek();
    return token.kind === 'open' && token.name === name;
  }

  /** The text up to the next tag, whitespace kept (a string's spaces are its own), and that tag, not taken. */
  text(): { text: string; at: number; tag: Token } {
    const token = this.peeked;
    const at = this.position;
    token.from = -1;
    const text = this.textAndTag(at, token);
    token.from = this.position = token.at;
    return { text, at, tag: token };
  }

  /** The text up to </name>. */
  textUntilClose(name: string): string {
    const { text, tag } = this.text();
    if (tag.kind !== 'close' || tag.name !== name) throw unexpected(tag, `</${name}>`);
    this.take(tag);
    return text;
  }

  next(): Token {
    const token = this.peek();
    this.take(token);
    return token;
  }

  /**
   * The next struct member when it is written as supervisord writes nearly all of them, a
   * string or an int with nothing to decode: read in one step, where the tag-by-tag path takes
   * eight. undefined for any other member (or none), which that path then reads.
   */
  simpleMember(): [string, string | number] | undefined {
    SIMPLE_MEMBER.lastIndex = this.position;
    const match = SIMPLE_MEMBER.exec(this.xml);
    if (!match) return undefined;
    const [, key, type, text] = match as unknown as [string, string, string, string];
    let value: string | number = text;
    if (type === 'int') {
      const digits = text.trim();
      if (!INTEGER.test(digits)) return undefined;
      value = Number(digits);
    }
    this.position = SIMPLE_MEMBER.lastIndex;
    this.peeked.from = -1;
    return [key, value];
  }
}

/** `<member><name>KEY</name><value><string>TEXT</string></value></member>` (or <int>), whitespace between elements as XML allows, no markup or entity in KEY or TEXT. */
const SIMPLE_MEMBER = /[ \t\r\n]*<member>[ \t\r\n]*<name>([^<&]*)<\/name>[ \t\r\n]*<value><(string|int)>([^<&]*)<\/\2><\/value>[ \t\r\n]*<\/member>/y;

function unexpected(token: Token, wanted: string): XmlRpcFormatError {
  if (token.kind === 'end') return new XmlRpcFormatError(`the reply ends where ${wanted} was expected`);
  const found = token.kind === 'text' ? `text "${token.text.trim().slice(0, 40)}"` : `<${token.kind === 'close' ? '/' : ''}${token.name}>`;
  return new XmlRpcFormatError(`${found} at offset ${token.at} where ${wanted} was expected`);
}

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string, at: number): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9A-Fa-f]+|#\d+|[A-Za-z]+);|&/g, (whole, entity: string | undefined) => {
    if (entity === undefined) throw new XmlRpcFormatError(`a bare "&" near offset ${at}`);
    if (entity.startsWith('#')) {
      const code = entity[1] === 'x' ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1));
      if (code > 0x10ffff) throw new XmlRpcFormatError(`character reference ${whole} is out of range near offset ${at}`);
      return String.fromCodePoint(code);
    }
    const known = Object.hasOwn(ENTITIES, entity) ? ENTITIES[entity] : undefined;
    if (known === undefined) throw new XmlRpcFormatError(`unknown entity ${whole} near offset ${at}`);
    return known;
  });
}

/** An integer's digits, with an optional sign. */
const INTEGER = /^[+-]?\d+$/;

/** How deep values may nest. */
const MAX_DEPTH = 64;

function readValue(reader: Reader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new XmlRpcFormatError(`values nested more than ${MAX_DEPTH} deep`);
  reader.open('value');
  // <value>text</value> and <value></value> are strings.
  const bare = reader.text();
  if (bare.tag.kind === 'close' && bare.tag.name === 'value') {
    reader.next();
    return bare.text;
  }
  if (bare.text.trim() !== '') throw unexpected({ kind: 'text', name: '', text: bare.text, at: bare.at, end: bare.tag.at }, 'a value');
  const token = reader.next();
  if (token.kind !== 'open') {
    if (token.kind !== 'empty') throw unexpected(token, 'a value');
    const name = token.name;
    reader.close('value');
    if (name === 'nil') return null;
    if (name === 'string') return '';
    if (name === 'array') return [];
    if (name === 'struct') return {};
    throw unexpected({ ...token, name }, 'a value');
  }
  const { name, at } = token;
  let value: unknown;
  switch (name) {
    case 'string':
      value = reader.textUntilClose('string');
      break;
    case 'int':
    case 'i4':
    case 'i8': {
      const text = reader.textUntilClose(name).trim();
      if (!INTEGER.test(text)) throw new XmlRpcFormatError(`<${name}> holds "${text.slice(0, 40)}", not an integer (offset ${at})`);
      value = Number(text);
      break;
    }
    case 'boolean': {
      const text = reader.textUntilClose('boolean').trim();
      if (text !== '0' && text !== '1') throw new XmlRpcFormatError(`<boolean> holds "${text.slice(0, 40)}", not 0 or 1 (offset ${at})`);
      value = text === '1';
      break;
    }
    case 'double': {
      const text = reader.textUntilClose('double').trim();
      const number = Number(text);
      if (text === '' || Number.isNaN(number)) throw new XmlRpcFormatError(`<double> holds "${text.slice(0, 40)}", not a number (offset ${at})`);
      value = number;
      break;
    }
    case 'base64':
      value = Buffer.from(reader.textUntilClose('base64').replace(/\s+/g, ''), 'base64');
      break;
    case 'dateTime.iso8601':
      value = reader.textUntilClose('dateTime.iso8601').trim();
      break;
    case 'nil':
      reader.close('nil');
      value = null;
      break;
    case 'array': {
      const items: unknown[] = [];
      const data = reader.peek();
      if (data.kind === 'empty' && data.name === 'data') reader.next();
      else {
        reader.open('data');
        while (reader.opens('value')) items.push(readValue(reader, depth + 1));
        reader.close('data');
      }
      reader.close('array');
      value = items;
      break;
    }
    case 'struct': {
      const members: Record<string, unknown> = {};
      // A member's value is one level deeper: past the limit, the tag-by-tag path says so.
      const simple = depth + 1 <= MAX_DEPTH;
      for (;;) {
        let key: string;
        let member: unknown;
        const read = simple ? reader.simpleMember() : undefined;
        if (read) [key, member] = read;
        else if (reader.opens('member')) {
          reader.open('member');
          reader.open('name');
          key = reader.textUntilClose('name');
          member = readValue(reader, depth + 1);
          reader.close('member');
        } else break;
        // A member called __proto__ is an ordinary key, not the object's prototype.
        if (key === '__proto__') Object.defineProperty(members, key, { value: member, enumerable: true, writable: true, configurable: true });
        else members[key] = member;
      }
      reader.close('struct');
      value = members;
      break;
    }
    default:
      throw unexpected(token, 'a value type');
  }
  reader.close('value');
  return value;
}

export function decodeMethodResponse(xml: string): XmlRpcResponse {
  const reader = new Reader(xml);
  reader.open('methodResponse');
  let response: XmlRpcResponse;
  if (reader.opens('fault')) {
    reader.open('fault');
    const fault = readValue(reader, 0) as Partial<XmlRpcFault> | null;
    reader.close('fault');
    if (!fault || typeof fault.faultCode !== 'number') throw new XmlRpcFormatError('a fault without an integer faultCode');
    response = { fault: { faultCode: fault.faultCode, faultString: String(fault.faultString ?? '') } };
  } else {
    reader.open('params');
    reader.open('param');
    response = { value: readValue(reader, 0) };
    reader.close('param');
    reader.close('params');
  }
  reader.close('methodResponse');
  const after = reader.peek();
  if (after.kind !== 'end') throw unexpected(after, 'the end of the reply');
  return response;
}
