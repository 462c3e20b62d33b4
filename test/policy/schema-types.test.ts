// The TypeScript types of a policy file are generated from the schema; this fails when
// someone changes one without the other (fix: npm run gen:types).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { policySchema } from '../../src/policy/schema.js';
import { POLICY_KINDS } from '../../src/policy/schema.js';
import { DEFAULTS } from '../../src/policy/model.js';

describe('schema and types', () => {
  it('src/policy/policy-file.generated.ts is generated from the current schema', async function () {
    this.timeout(60000);
    // @ts-expect-error: a plain ESM script without type declarations
    const { generatePolicyFileTypes, OUTPUT_PATH } = (await import('../../scripts/generate-types.mjs')) as {
      generatePolicyFileTypes: () => Promise<string>;
      OUTPUT_PATH: URL;
    };
    const committed = await readFile(OUTPUT_PATH, 'utf8');
    assert.equal(committed, await generatePolicyFileTypes(), 'run `npm run gen:types` and commit the result');
  });

  it('the schema knows the four kinds of DESIGN.md', () => {
    assert.deepEqual(POLICY_KINDS, ['memory', 'oom', 'load', 'runtime']);
  });

  it('the model defaults are the values the schema enumerates', () => {
    const memory = policySchema.definitions?.memoryPolicy?.properties ?? {};
    assert.ok((memory.scope?.enum as string[]).includes(DEFAULTS.scope));
    assert.ok((policySchema.definitions?.mode?.enum as string[]).includes(DEFAULTS.mode));
    assert.ok((policySchema.definitions?.loadPolicy?.properties?.average?.enum as string[]).includes(DEFAULTS.average));
  });
});
