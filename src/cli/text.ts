// Plain-text helpers shared by the verbs that print tables.

/** "1 file", "2 files". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Columns padded to their widest cell, measured without colour codes; no trailing spaces. */
export function table(rows: readonly string[][]): string[] {
  const width = (text: string): number => [...text.replace(/\u001b\[[0-9;]*m/g, '')].length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell)))).join('  ').trimEnd());
}
