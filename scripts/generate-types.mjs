// Writes the TypeScript types of procguard's file formats from their JSON Schemas, so the
// types cannot drift from the schemas (the source of truth):
//   schemas/policy.schema.json   → src/policy/policy-file.generated.ts
//   schemas/hub.schema.json      → src/policy/hub-file.generated.ts
//   schemas/snapshot.schema.json → src/data/snapshot.generated.ts
//   schemas/plan.schema.json     → src/data/plan.generated.ts
//   schemas/state.schema.json    → src/data/state.generated.ts
// test/policy/schema-types.test.ts fails when a committed file is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

export const TARGETS = [
  { schema: 'policy.schema.json', output: 'src/policy/policy-file.generated.ts', name: 'PolicyFile' },
  { schema: 'hub.schema.json', output: 'src/policy/hub-file.generated.ts', name: 'HubFile' },
  { schema: 'snapshot.schema.json', output: 'src/data/snapshot.generated.ts', name: 'Snapshot' },
  { schema: 'plan.schema.json', output: 'src/data/plan.generated.ts', name: 'Plan' },
  { schema: 'state.schema.json', output: 'src/data/state.generated.ts', name: 'EngineState' },
].map((target) => ({
  ...target,
  schemaUrl: new URL(`../schemas/${target.schema}`, import.meta.url),
  outputUrl: new URL(`../${target.output}`, import.meta.url),
}));

export async function generateTypes(target) {
  const schema = JSON.parse(await readFile(target.schemaUrl, 'utf8'));
  return compile(schema, target.name, {
    bannerComment: `// Generated from schemas/${target.schema} by \`npm run gen:types\`. Do not edit by hand.`,
    additionalProperties: false,
    unreachableDefinitions: true,
    declareExternallyReferenced: true,
    // A $ref to another schema file (state → plan.schema.json#/definitions/target) is read from schemas/.
    cwd: fileURLToPath(new URL('../schemas/', import.meta.url)),
    format: true,
    style: { singleQuote: true, printWidth: 120 },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const target of TARGETS) {
    await writeFile(target.outputUrl, await generateTypes(target));
    console.log(`wrote ${target.output}`);
  }
}
