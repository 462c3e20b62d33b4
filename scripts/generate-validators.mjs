// Compiles procguard's JSON Schemas into standalone validator modules (ajv's standalone code),
// so no command compiles a schema at start and the running daemon does not load ajv:
//   schemas/policy.schema.json                         → src/policy/policy-validator.generated.ts
//   schemas/{snapshot,plan,state,policy-test}.schema.json → src/policy/data-validators.generated.ts
// Run with `npm run gen:validators` (it needs tsx for src/policy/formats.ts);
// test/policy/schema-types.test.ts fails when a committed file is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { Ajv, _ } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const OPTIONS = { allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true };

export const VALIDATOR_TARGETS = [
  {
    output: 'src/policy/policy-validator.generated.ts',
    options: { ...OPTIONS, discriminator: true },
    formats: true,
    schemas: { policyFile: 'policy.schema.json' },
  },
  {
    output: 'src/policy/data-validators.generated.ts',
    options: OPTIONS,
    formats: false,
    schemas: { snapshot: 'snapshot.schema.json', plan: 'plan.schema.json', state: 'state.schema.json', policyTest: 'policy-test.schema.json' },
  },
].map((target) => ({ ...target, outputUrl: new URL(`../${target.output}`, import.meta.url) }));

export async function generateValidators(target) {
  const { formats } = await import('../src/policy/formats.ts');
  const ajv = new Ajv({ ...target.options, code: { source: true, esm: true, ...(target.formats ? { formats: _`formats` } : {}) } });
  if (target.formats) for (const [name, format] of Object.entries(formats)) ajv.addFormat(name, format);
  // Annotations the diagnostics read from ajv's `parentSchema` (see schemas/policy.schema.json).
  ajv.addVocabulary(['x-diagnostic']);
  const exports = {};
  for (const [name, file] of Object.entries(target.schemas)) {
    const schema = JSON.parse(await readFile(new URL(`../schemas/${file}`, import.meta.url), 'utf8'));
    ajv.addSchema(schema);
    exports[name] = schema.$id;
  }
  const files = Object.values(target.schemas).map((file) => `schemas/${file}`).join(', ');
  let code = standaloneCode(ajv, exports).replace(/^"use strict";/, '');
  const roots = [];
  for (const [name, file] of Object.entries(target.schemas)) {
    const schema = JSON.parse(await readFile(new URL(`../schemas/${file}`, import.meta.url), 'utf8'));
    const shared = shareDefinitions(code, schema);
    code = shared.code;
    roots.push(`export const ${name}Schema = ${shared.root};`);
  }
  return [
    `// Generated from ${files} by \`npm run gen:validators\`. Do not edit by hand.`,
    '// @ts-nocheck',
    "import { createRequire } from 'node:module';",
    ...(target.formats ? ["import { formats } from './formats.js';"] : []),
    'const require = createRequire(import.meta.url);',
    code,
    ...roots,
    '',
  ].join('\n');
}

/** Each `const schemaN = {…};` in the generated code, with where its JSON literal starts and ends. */
function schemaConstants(code) {
  const found = [];
  for (const match of code.matchAll(/const (schema\d+) = /g)) {
    const start = match.index + match[0].length;
    if (code[start] !== '{' && code[start] !== '[') continue; // already a reference
    let depth = 0;
    let inString = false;
    let end = start;
    for (; end < code.length; end += 1) {
      const char = code[end];
      if (inString) {
        if (char === '\\') end += 1;
        else if (char === '"') inString = false;
      } else if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth += 1;
      else if (char === '}' || char === ']') {
        depth -= 1;
        if (depth === 0) break;
      }
    }
    found.push({ name: match[1], start: match.index, valueStart: start, end: end + 1, value: JSON.parse(code.slice(start, end + 1)) });
  }
  return found;
}

/**
 * ajv's standalone code holds a copy of each definition. The diagnostics recognise schema
 * objects by identity (ajv's `parentSchema`), so each copy becomes a reference into the root.
 */
function shareDefinitions(code, schema) {
  const constants = schemaConstants(code);
  const root = constants.find((c) => c.value.$id === schema.$id);
  if (!root) throw new Error(`the generated code has no constant for ${schema.$id}`);
  const byJson = new Map(Object.entries(schema.definitions ?? {}).map(([name, definition]) => [JSON.stringify(definition), name]));
  let result = code;
  for (const constant of constants.reverse()) {
    const name = constant !== root && byJson.get(JSON.stringify(constant.value));
    if (!name) continue;
    result = `${result.slice(0, constant.valueStart)}${root.name}.definitions[${JSON.stringify(name)}]${result.slice(constant.end)}`;
  }
  return { code: result, root: root.name };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const target of VALIDATOR_TARGETS) {
    await writeFile(target.outputUrl, await generateValidators(target));
    console.log(`wrote ${target.output}`);
  }
}
