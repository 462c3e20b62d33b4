// The validator of one of procguard's data formats, by its schema file, for tests that check
// what procguard wrote against the schema.

import type { ValidateFunction } from 'ajv';
import { plan } from '../../src/policy/plan-validator.generated.js';
import { policyTest } from '../../src/policy/policy-test-validator.generated.js';
import { snapshot } from '../../src/policy/snapshot-validator.generated.js';
import { state } from '../../src/policy/state-validator.generated.js';

const DATA_VALIDATORS = {
  'snapshot.schema.json': snapshot,
  'plan.schema.json': plan,
  'state.schema.json': state,
  'policy-test.schema.json': policyTest,
} as const;

export function dataValidator(schemaFile: keyof typeof DATA_VALIDATORS): ValidateFunction {
  return DATA_VALIDATORS[schemaFile];
}
