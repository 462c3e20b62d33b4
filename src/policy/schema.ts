// The policy file schema (schemas/policy.schema.json, the source of truth for the format) and
// procguard's data formats, with their validators compiled ahead of time by ajv's standalone
// code (scripts/generate-validators.mjs): no schema is compiled at start.

import type { ValidateFunction } from 'ajv';
import { policyFile, policyFileSchema } from './policy-validator.generated.js';
import * as dataValidators from './data-validators.generated.js';
import { hubFile, hubFileSchema } from './hub-validator.generated.js';

export { isLocalMailName, isMailAddress } from './formats.js';

export interface JsonSchema {
  [keyword: string]: unknown;
  properties?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  description?: string;
}

/** schemas/policy.schema.json, for code that reads it (allowed keys, kinds, bounds). */
export const policySchema = policyFileSchema as JsonSchema;

/** The policy file validator. */
export function policyFileValidator(): ValidateFunction {
  return policyFile as ValidateFunction;
}

/** The validator of a hub file (schemas/hub.schema.json), and the schema itself. */
export function hubFileValidator(): ValidateFunction {
  return hubFile as ValidateFunction;
}

export const hubSchema = hubFileSchema as JsonSchema;

export function definition(name: string): JsonSchema {
  const found = policySchema.definitions?.[name];
  if (!found) throw new Error(`schemas/policy.schema.json has no definition "${name}"`);
  return found;
}

const DATA_VALIDATORS = {
  'snapshot.schema.json': dataValidators.snapshot,
  'plan.schema.json': dataValidators.plan,
  'state.schema.json': dataValidators.state,
  'policy-test.schema.json': dataValidators.policyTest,
} as const;

/** The validator of one of procguard's data formats (snapshot, plan, state, policy-test). */
export function dataValidator(schemaFile: keyof typeof DATA_VALIDATORS): ValidateFunction {
  return DATA_VALIDATORS[schemaFile] as ValidateFunction;
}
