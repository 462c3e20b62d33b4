// The registry of policy kinds: each kind is one module under src/policy/kinds/, registered
// once, with its branch in the policy schema and its name in the plan schema, and no code
// outside its module decides anything by a kind's name.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KINDS, POLICY_KINDS } from '../../src/policy/kinds/index.js';
import planSchema from '../../schemas/plan.schema.json' with { type: 'json' };
import policySchema from '../../schemas/policy.schema.json' with { type: 'json' };

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const KINDS_DIR = join(SRC, 'policy', 'kinds');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.generated.ts') ? [path] : [];
  });
}

describe('policy kinds: the registry', () => {
  it('registers one module per file under src/policy/kinds/, each under the name its module gives', () => {
    const modules = readdirSync(KINDS_DIR)
      .filter((name) => name.endsWith('.ts') && !['index.ts', 'kind.ts', 'acting.ts'].includes(name))
      .map((name) => name.replace(/\.ts$/, ''))
      .sort();
    assert.deepEqual([...POLICY_KINDS].sort(), modules);
    for (const [name, kind] of KINDS) assert.equal(kind.kind, name);
  });

  it("each kind's schema branch exists, is one of the policy's choices and fixes its kind", () => {
    const definitions = policySchema.definitions as Record<string, { properties?: { kind?: { const?: string } } }>;
    const choices = policySchema.definitions.policy.oneOf.map((branch: { $ref: string }) => branch.$ref);
    for (const kind of KINDS.values()) {
      assert.equal(definitions[kind.schemaDefinition]?.properties?.kind?.const, kind.kind, kind.schemaDefinition);
      assert.ok(choices.includes(`#/definitions/${kind.schemaDefinition}`), `${kind.schemaDefinition} is a choice of "policy"`);
    }
    assert.equal(choices.length, KINDS.size);
  });

  it('the plan schema names the same kinds', () => {
    assert.deepEqual([...planSchema.definitions.action.properties.kind.enum].sort(), [...POLICY_KINDS].sort());
  });

  it('no code outside src/policy/kinds/ decides by the name of a kind', () => {
    const byName = new RegExp(`kind\\s*[!=]==?\\s*['"](?:${POLICY_KINDS.join('|')})['"]|case ['"](?:${POLICY_KINDS.join('|')})['"]`);
    const offenders = sourceFiles(SRC)
      .filter((file) => !file.startsWith(KINDS_DIR))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, index) => (byName.test(line) ? [`${relative(SRC, file)}:${index + 1}: ${line.trim()}`] : [])),
      );
    assert.deepEqual(offenders, []);
  });
});
