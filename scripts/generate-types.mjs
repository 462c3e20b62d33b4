// Writes src/policy/policy-file.generated.ts from schemas/policy.schema.json, so the
// TypeScript types of a policy file are derived from the schema and cannot drift from it.
// test/policy/schema-types.test.ts fails when the committed file is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { compile } from 'json-schema-to-typescript';

export const SCHEMA_PATH = new URL('../schemas/policy.schema.json', import.meta.url);
export const OUTPUT_PATH = new URL('../src/policy/policy-file.generated.ts', import.meta.url);

export async function generatePolicyFileTypes() {
  const schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8'));
  return compile(schema, 'PolicyFile', {
    bannerComment:
      '// Generated from schemas/policy.schema.json by `npm run gen:types`. Do not edit by hand.',
    additionalProperties: false,
    unreachableDefinitions: true,
    declareExternallyReferenced: true,
    format: true,
    style: { singleQuote: true, printWidth: 120 },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(OUTPUT_PATH, await generatePolicyFileTypes());
  console.log('wrote src/policy/policy-file.generated.ts');
}
