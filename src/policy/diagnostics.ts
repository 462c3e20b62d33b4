// Problems found in policy files, in the user's terms: where (file:line:col), how bad, what.

import { printable } from '../shared/text.js';

export const DIAGNOSTIC_CODES = [
  'io',
  'permission',
  'no-policy-files',
  'duplicate-file',
  'yaml-syntax',
  'yaml-warning',
  'schema',
  'unexpected-key',
  'missing-key',
  'invalid-value',
  'duplicate-name',
  'duplicate-setting',
  'unknown-reference',
  'invalid-regex',
  'template-syntax',
  'template-field',
  'unused',
  'inconsistent',
  'unsafe-match',
  'no-supervisor',
  'unknown-label',
  'selects-no-host',
] as const;

export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
}

/** Warnings only `validate` gives: a verb that collects says the same, knowing the environment it runs in. */
const VALIDATE_ONLY: ReadonlySet<DiagnosticCode> = new Set(['no-supervisor']);

/** The diagnostics a verb that loads the configuration to run it prints. */
export function runtimeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => !VALIDATE_ONLY.has(d.code));
}

export interface Position {
  line: number;
  column: number;
}

export const START_OF_FILE: Position = { line: 1, column: 1 };

export function diagnostic(file: string, position: Position, severity: Severity, code: DiagnosticCode, message: string): Diagnostic {
  return { file, line: position.line, column: position.column, severity, code, message };
}

/** Sorted by file, line, column, then errors before warnings; exact repeats removed. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique: Diagnostic[] = [];
  for (const d of diagnostics) {
    const key = `${d.file}\0${d.line}\0${d.column}\0${d.severity}\0${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(d);
  }
  return unique.sort((a, b) => compareText(a.file, b.file) || a.line - b.line || a.column - b.column || compareText(a.severity, b.severity) || compareText(a.message, b.message));
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** One line per problem: `FILE:LINE:COL: error: message`. Control characters are shown escaped. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${printable(d.message)}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
