// The TypeScript types and the compiled validators of the file formats are generated from
// their schemas; this fails when someone changes one without the other (fix: npm run gen:types,
// npm run gen:validators).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { policySchema, type JsonSchema } from '../../src/policy/schema.js';
import { hubFileSchema } from '../../src/policy/hub-validator.generated.js';
import { dataValidator } from '../helpers/data-validators.js';
import type { EngineState } from '../../src/data/types.js';
import { POLICY_KINDS } from '../../src/policy/kinds/index.js';
import { LOAD_DEFAULTS } from '../../src/policy/kinds/load.js';
import { MEMORY_DEFAULTS } from '../../src/policy/kinds/memory.js';
import { DEFAULTS } from '../../src/policy/model.js';
import { ANNOTATED_NODES } from '../../src/policy/schema-diagnostics.js';

interface TypeTarget {
  schema: string;
  output: string;
  outputUrl: URL;
}
// @ts-expect-error: a plain ESM script without type declarations
const { TARGETS, generateTypes } = (await import('../../scripts/generate-types.mjs')) as {
  TARGETS: TypeTarget[];
  generateTypes: (target: TypeTarget) => Promise<string>;
};

// @ts-expect-error: a plain ESM script without type declarations
const { VALIDATOR_TARGETS, generateValidators } = (await import('../../scripts/generate-validators.mjs')) as {
  VALIDATOR_TARGETS: { output: string; outputUrl: URL }[];
  generateValidators: (target: { output: string; outputUrl: URL }) => Promise<string>;
};

describe('schema and types', () => {
  for (const target of VALIDATOR_TARGETS) {
    it(`${target.output} is compiled from the current schemas`, async () => {
      const committed = await readFile(target.outputUrl, 'utf8');
      assert.equal(committed, await generateValidators(target), 'run `npm run gen:validators` and commit the result');
    });
  }

  for (const target of TARGETS) {
    it(`${target.output} is generated from schemas/${target.schema}`, async function () {
      this.timeout(60000);
      const committed = await readFile(target.outputUrl, 'utf8');
      assert.equal(committed, await generateTypes(target), 'run `npm run gen:types` and commit the result');
    });
  }

  it('the schema knows the five kinds the README documents', () => {
    assert.deepEqual(POLICY_KINDS, ['memory', 'oom', 'load', 'runtime', 'cpu']);
  });

  it('the diagnostics word errors for exactly the nodes annotated "x-diagnostic" in the policy and hub schemas', () => {
    const found = new Set<string>();
    const visit = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      const name = (node as Record<string, unknown>)['x-diagnostic'];
      if (typeof name === 'string') found.add(name);
      for (const child of Object.values(node)) visit(child);
    };
    visit(policySchema);
    visit(hubFileSchema as JsonSchema);
    assert.deepEqual([...found].sort(), [...ANNOTATED_NODES].sort());
  });

  it('the state schema, whose types the code uses, holds a pending notification with the plan target it reports', () => {
    const state: EngineState = {
      version: 1,
      start_times: 'ticks',
      targets: { 'web-memory': { 'supervisor:main:web:w1': { over: 1, actions: [1795266602] } } },
      paused: [{ policy: 'batch-load', root: { pid: 900, start_time: 1795266300.25, name: 'rsync' }, processes: [{ pid: 900, start_time: 1795266300.25 }], since: 1795266602 }],
      pending: [
        {
          notification: {
            policy: 'web-memory',
            to: 'ops',
            action: 'restart',
            target: { pid: 11, start_time: 1795266502.5, name: 'python', supervisor: 'main', namespec: 'web:w1' },
            subject: 'web:w1 restarted',
            body: 'rss over the limit',
          },
          event: { policy: 'web-memory' },
          attempts: 1,
          first_failed: 1795266602,
          last_error: 'connection refused',
        },
      ],
      restarting: [{ policy: 'web-memory', supervisor: 'main', namespec: 'web:w1', name: 'python', pid: 11, since: 1795266602 }],
    };
    const validate = dataValidator('state.schema.json');
    assert.ok(validate(state), JSON.stringify(validate.errors));
    const noPid = structuredClone(state);
    delete (noPid.pending![0]!.notification.target as { pid?: number }).pid;
    assert.equal(validate(noPid), false);
  });

  it('the model defaults are the values the schema enumerates', () => {
    const memory = policySchema.definitions?.memoryPolicy?.properties ?? {};
    assert.ok((memory.scope?.enum as string[]).includes(MEMORY_DEFAULTS.scope));
    assert.ok((policySchema.definitions?.mode?.enum as string[]).includes(DEFAULTS.mode));
    assert.ok((policySchema.definitions?.loadPolicy?.properties?.average?.enum as string[]).includes(LOAD_DEFAULTS.average));
  });
});
