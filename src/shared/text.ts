// Text as procguard shows it: printable on a terminal and in mail, passwords hidden, counted and laid out in columns.

/** "1 file", "2 files". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Columns padded to their widest cell, measured without colour codes; no trailing spaces. */
export function table(rows: readonly string[][]): string[] {
  const width = (text: string): number => [...text.replace(/\u001b\[[0-9;]*m/g, '')].length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell))))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * Characters that are not shown as themselves on a terminal: C0 and C1 controls, line and
 * paragraph separators, bidirectional overrides and isolates (which can make one name display
 * as another), zero-width characters, the byte-order mark, and lone surrogates.
 */
export const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Keeps one diagnostic on one line whatever the user's file contained, every hidden character shown escaped. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const json = JSON.stringify(c);
    return json.length > 3 ? json.slice(1, -1) : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * JSON for a terminal or a script: the same value as JSON.stringify, with the characters JSON
 * leaves raw but a terminal hides or reorders (C1 controls, bidirectional overrides,
 * zero-width characters, line separators) written as \\u escapes.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A value as the operator would recognise it, short and on one line. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = redactUrlPassword(value);
    return JSON.stringify(shown.length > 60 ? `${shown.slice(0, 57)}...` : shown);
  }
  return String(value);
}

/**
 * Passwords never appear in output, not even the one an operator put in a URL by mistake. The
 * URL is read as the clients read it (WHATWG URL, which accepts http:admin:pw@host,
 * backslashes, blanks and an unencoded @ in a password) and shown with its password as ***.
 * Text that does not parse, or parses with no host yet looks as if it carried credentials
 * (a colon before an @), loses everything between its scheme and its last @.
 */
export function redactUrlPassword(text: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(text);
  } catch {
    parsed = undefined;
  }
  if (parsed && parsed.password !== '') return urlWithPasswordHidden(parsed, text);
  if (parsed && parsed.host !== '') return text; // the parser found no password: an @ is in the path
  const at = text.lastIndexOf('@');
  if (at < 0 || !text.slice(0, at).includes(':')) return text;
  return redactRaw(text);
}

/** Everything between the scheme (with its slashes) and the last @ replaced by ***. */
function redactRaw(text: string): string {
  const at = text.lastIndexOf('@');
  const scheme = /^\s*[A-Za-z][A-Za-z0-9+.-]*:[/\\]*/.exec(text)?.[0] ?? '';
  return scheme.length <= at ? `${scheme}***${text.slice(at)}` : `***${text.slice(at)}`;
}

/** The parsed URL with its user name kept and its password shown as ***; without the "/" the parser adds when the text had no path. */
export function urlWithPasswordHidden(parsed: URL, raw: string): string {
  const copy = new URL(parsed.href);
  copy.password = '***';
  const href = copy.href.replace(/:%2A%2A%2A@/i, ':***@');
  const noPath = copy.pathname === '/' && copy.search === '' && copy.hash === '' && !raw.trimEnd().endsWith('/');
  return noPath && href.endsWith('/') ? href.slice(0, -1) : href;
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
