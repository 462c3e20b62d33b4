// JSON or YAML data files other than policies (snapshots, state files, policy tests):
// parsed with positions and checked against their schema, every problem as FILE:LINE:COL
// with the path inside the file, so a bad one gets a clear error, never a stack trace.

import type { ErrorObject, ValidateFunction } from 'ajv';
import { diagnostic, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { dotted } from './schema-diagnostics.js';
import { capitalize, show } from '../shared/text.js';
import { locate, parseYamlFile, type ParsedFile, type PathSegment } from './yaml-source.js';

export interface DataFileResult<T> {
  diagnostics: Diagnostic[];
  /** Present when the file is valid. */
  data?: T;
  file?: ParsedFile;
}

/** `what` names the kind of file in messages: "snapshot", "state file". */
export async function parseDataFile<T>(path: string, text: string, validate: ValidateFunction, what: string): Promise<DataFileResult<T>> {
  // Fast path for the common case, a valid JSON file; positions are only worked out for a bad one.
  const json = parseJson(text);
  if (json !== undefined && validate(json)) return { diagnostics: [], data: json as T };
  const { file, diagnostics } = await parseYamlFile(path, text);
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const problems = checkData(file, file.data, [], validate, what);
  if (problems.length > 0) return { diagnostics: problems, file };
  return { diagnostics: [], data: file.data as T, file };
}

/** Checks `data` (found at `base` inside `file`) against a schema; messages name the path inside the data. */
export function checkData(file: ParsedFile, data: unknown, base: PathSegment[], validate: ValidateFunction, what: string): Diagnostic[] {
  if (validate(data)) return [];
  const errors = (validate.errors ?? []).filter((e) => !['if', 'anyOf', 'oneOf'].includes(e.keyword));
  return sortDiagnostics(
    errors.map((error) => {
      const path = [...base, ...pointerSegments(error.instancePath)];
      const inside = pointerSegments(error.instancePath);
      const place = inside.length > 0 ? `"${dotted(inside)}" in the ${what}` : `the ${what}`;
      const atKey = error.keyword === 'additionalProperties';
      const extra = atKey ? [String((error.params as { additionalProperty: string }).additionalProperty)] : [];
      return diagnostic(file.path, locate(file, [...path, ...extra], atKey ? 'key' : 'value'), 'error', 'schema', `${capitalize(place)} ${wording(error)}`);
    }),
  );
}

function wording(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `is missing "${String(params.missingProperty)}"`;
    case 'additionalProperties':
      return `has an unexpected key "${String(params.additionalProperty)}"`;
    case 'type':
      return `must be ${article(String(params.type))}, not ${show(error.data)}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}, not ${show(error.data)}`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${show(error.data)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
      return `${error.message ?? 'is out of range'}, not ${show(error.data)}`;
    case 'minItems':
    case 'maxItems':
      return `must have ${error.keyword === 'minItems' ? 'at least' : 'at most'} ${String(params.limit)} items`;
    default:
      return error.message ?? 'is invalid';
  }
}

function article(type: string): string {
  const words: Record<string, string> = { integer: 'an integer', object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false', null: 'empty' };
  return type
    .split(',')
    .map((t) => words[t] ?? t)
    .join(' or ');
}

function pointerSegments(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
