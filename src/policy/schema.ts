// The policy file schema (schemas/policy.schema.json, the source of truth for the format),
// with its validator compiled ahead of time by ajv's standalone code
// (scripts/generate-validators.mjs): no schema is compiled at start. The data formats'
// validators are in data-validators.ts, one module each.

import type { ValidateFunction } from 'ajv';
import { policyFile, policyFileSchema } from './policy-validator.generated.js';

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

export function definition(name: string): JsonSchema {
  const found = policySchema.definitions?.[name];
  if (!found) throw new Error(`schemas/policy.schema.json has no definition "${name}"`);
  return found;
}
