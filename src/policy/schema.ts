// The policy file schema (schemas/policy.schema.json, the source of truth for the format)
// compiled once with the formats procguard defines: sizes, durations, mail addresses, SMTP URLs.

import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseDuration, parseSize } from './units.js';

export interface JsonSchema {
  [keyword: string]: unknown;
  properties?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  description?: string;
}

export const policySchema: JsonSchema = JSON.parse(
  readFileSync(new URL('../../schemas/policy.schema.json', import.meta.url), 'utf8'),
) as JsonSchema;

const MAIL_ADDRESS = /^(?:[^\s@<>]+@[^\s@<>]+|[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>)$/;
/** A local name ("root", "ops") as sendmail delivers it (memmon -m root); an SMTP server needs user@host. */
const LOCAL_NAME = /^[A-Za-z0-9._%+-]+$/;
const SMTP_URL = /^smtps?:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?\/?$/;

export function isMailAddress(text: string): boolean {
  return MAIL_ADDRESS.test(text) || LOCAL_NAME.test(text);
}

export function isLocalMailName(text: string): boolean {
  return LOCAL_NAME.test(text);
}

let compiled: ValidateFunction | undefined;

/** The compiled validator; built on first use so commands that never validate pay nothing. */
export function policyFileValidator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    discriminator: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  ajv.addFormat('size', { type: 'string', validate: (text: string) => parseSize(text) !== undefined });
  ajv.addFormat('duration', { type: 'string', validate: (text: string) => parseDuration(text) !== undefined });
  ajv.addFormat('email', { type: 'string', validate: isMailAddress });
  ajv.addFormat('smtp-url', { type: 'string', validate: (text: string) => SMTP_URL.test(text) });
  compiled = ajv.compile(policySchema);
  return compiled;
}

export function definition(name: string): JsonSchema {
  const found = policySchema.definitions?.[name];
  if (!found) throw new Error(`schemas/policy.schema.json has no definition "${name}"`);
  return found;
}

/** The kinds of policy, read from the schema's discriminated branches. */
export const POLICY_KINDS: readonly string[] = ['memoryPolicy', 'oomPolicy', 'loadPolicy', 'runtimePolicy'].map(
  (name) => String((definition(name).properties?.kind as JsonSchema | undefined)?.const),
);

const dataValidators = new Map<string, ValidateFunction>();
let dataAjv: Ajv | undefined;

/** The validator of one of procguard's data formats (snapshot, plan, state, policy-test), compiled on first use. */
export function dataValidator(schemaFile: 'snapshot.schema.json' | 'plan.schema.json' | 'state.schema.json' | 'policy-test.schema.json'): ValidateFunction {
  const cached = dataValidators.get(schemaFile);
  if (cached) return cached;
  dataAjv ??= new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
  const schema = JSON.parse(readFileSync(new URL(`../../schemas/${schemaFile}`, import.meta.url), 'utf8')) as JsonSchema;
  const validate = dataAjv.compile(schema);
  dataValidators.set(schemaFile, validate);
  return validate;
}
