// Compiles procguard's JSON Schemas into standalone validator modules (ajv's standalone code),
// so no command compiles a schema at start and the running daemon does not load ajv:
//   schemas/policy.schema.json       → src/policy/policy-validator.generated.ts
//   schemas/hub.schema.json          → src/policy/hub-validator.generated.ts
//   schemas/snapshot.schema.json     → src/policy/snapshot-validator.generated.ts
//   schemas/plan.schema.json         → src/policy/plan-validator.generated.ts
//   schemas/state.schema.json        → src/policy/state-validator.generated.ts (with the plan parts it uses)
//   schemas/policy-test.schema.json  → src/policy/policy-test-validator.generated.ts
// One module per format, so a command loads only the validators of the files it reads
// (`check --snapshot` loads the policy file's and the snapshot's, not the others).
// Run with `npm run gen:validators` (it needs tsx for src/policy/formats.ts);
// test/policy/schema-types.test.ts fails when a committed file is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { Ajv, _ } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import ucs2lengthModule from 'ajv/dist/runtime/ucs2length.js';

// maxLength counts code points with ajv's runtime function, which the standalone code names
// as `require("ajv/dist/runtime/ucs2length").default`: the function is written into the
// module instead, so the validators need no require() and bundle as plain ES modules.
const ucs2length = ucs2lengthModule.default;

const OPTIONS = { allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true };

export const VALIDATOR_TARGETS = [
  {
    output: 'src/policy/policy-validator.generated.ts',
    options: { ...OPTIONS, discriminator: true },
    formats: true,
    schemas: { policyFile: 'policy.schema.json' },
    readable: ['policyFile'],
  },
  {
    output: 'src/policy/hub-validator.generated.ts',
    options: OPTIONS,
    formats: true,
    schemas: { hubFile: 'hub.schema.json' },
    readable: ['hubFile'],
  },
  ...[
    ['snapshot', 'snapshot.schema.json'],
    ['plan', 'plan.schema.json'],
    ['state', 'state.schema.json', ['plan.schema.json']],
    ['policyTest', 'policy-test.schema.json'],
  ].map(([name, file, references = []]) => ({
    output: `src/policy/${file.replace('.schema.json', '')}-validator.generated.ts`,
    options: OPTIONS,
    formats: false,
    readable: [],
    schemas: { [name]: file },
    references,
  })),
].map((target) => ({ ...target, outputUrl: new URL(`../${target.output}`, import.meta.url) }));

export async function generateValidators(target) {
  const { formats } = await import('../src/policy/formats.ts');
  const ajv = new Ajv({ ...target.options, code: { source: true, esm: true, ...(target.formats ? { formats: _`formats` } : {}) } });
  if (target.formats) for (const [name, format] of Object.entries(formats)) ajv.addFormat(name, format);
  // Annotations the diagnostics read from ajv's `parentSchema` (see schemas/policy.schema.json).
  ajv.addVocabulary(['x-diagnostic']);
  const exports = {};
  const schemas = {};
  // Schemas the exported ones refer to ($ref into another file): compiled in, not exported.
  for (const file of target.references ?? []) ajv.addSchema(JSON.parse(await readFile(new URL(`../schemas/${file}`, import.meta.url), 'utf8')));
  for (const [name, file] of Object.entries(target.schemas)) {
    const schema = JSON.parse(await readFile(new URL(`../schemas/${file}`, import.meta.url), 'utf8'));
    ajv.addSchema(schema);
    exports[name] = schema.$id;
    schemas[name] = schema;
  }
  const files = Object.values(target.schemas)
    .map((file) => `schemas/${file}`)
    .join(', ');
  let code = standaloneCode(ajv, exports)
    .replace(/^"use strict";/, '')
    .replaceAll(ucs2length.code, 'ucs2length');
  // Typed, so code importing a validator needs no cast (the module itself is not type-checked).
  for (const name of Object.keys(exports)) code = code.replace(`export const ${name} = `, `export const ${name}: import('ajv').ValidateFunction = `);
  if (code.includes('require(')) throw new Error(`${target.output}: the standalone code still calls require(): ${/require\([^)]*\)/.exec(code)[0]}`);
  // The schema itself, for code that reads it (allowed keys, bounds, descriptions).
  const readable = Object.entries(schemas).filter(([name]) => target.readable.includes(name));
  return [
    `// Generated from ${files} by \`npm run gen:validators\`. Do not edit by hand.`,
    '// @ts-nocheck',
    ...(target.formats ? ["import { formats } from './formats.js';"] : []),
    `const ucs2length = ${ucs2length.toString()};`,
    code,
    // ajv's code holds the schema already (as `const schemaN = {…}`): that object is exported, not a second copy.
    ...readable.map(([name, schema]) => {
      const held = new RegExp(`const (schema\\d+) = ${JSON.stringify(schema).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};`).exec(code);
      return `export const ${name}Schema = ${held ? held[1] : JSON.stringify(schema)};`;
    }),
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const target of VALIDATOR_TARGETS) {
    await writeFile(target.outputUrl, await generateValidators(target));
    console.log(`wrote ${target.output}`);
  }
}
