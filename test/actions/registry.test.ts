// The adapters' conformance: every module under src/actions/ is registered under its name,
// every adapter a plan can name exists, and the engine names exactly one for every kind of
// planned action and notifier.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ADAPTERS } from '../../src/actions/registry.js';
import type { Adapter } from '../../src/actions/types.js';
import type { PlannedAction } from '../../src/data/types.js';
import { adapterFor } from '../../src/engine/arbiter.js';
import type { NotifierConfig } from '../../src/policy/model.js';
import planSchema from '../../schemas/plan.schema.json' with { type: 'json' };

const ACTIONS_DIR = fileURLToPath(new URL('../../src/actions/', import.meta.url));
const registrySource = readFileSync(join(ACTIONS_DIR, 'registry.ts'), 'utf8');

describe('action adapters: conformance', () => {
  it('registers the adapter of every module folder under src/actions/, once, under its own name', async () => {
    const folders = readdirSync(ACTIONS_DIR).filter((name) => statSync(join(ACTIONS_DIR, name)).isDirectory());
    assert.deepEqual(folders.sort(), ['alertmanager', 'exec', 'mail', 'oom', 'signal', 'supervisor', 'webhook']);
    for (const folder of folders) {
      const module = (await import(pathToFileURL(join(ACTIONS_DIR, folder, `${folder}.js`)).href)) as { adapter?: Adapter };
      assert.ok(module.adapter, `src/actions/${folder}/${folder}.ts exports an adapter`);
      assert.equal(module.adapter.name, folder);
      // Compared by name and code: mocha may load this file's imports and a dynamic import as two module instances.
      assert.equal(ADAPTERS.get(module.adapter.name)?.name, folder, `${folder} is registered under its name`);
      assert.match(registrySource, new RegExp(`import \\{ adapter as \\w+ \\} from './${folder}/${folder}.js'`), `registry.ts imports the ${folder} adapter`);
    }
    assert.equal(ADAPTERS.size, folders.length);
  });

  it('every adapter a plan entry can name is registered, and no other', () => {
    const named = [...planSchema.definitions.action.properties.adapter.enum, ...planSchema.definitions.notification.properties.adapter.enum];
    assert.deepEqual([...ADAPTERS.keys()].sort(), [...named].sort());
  });

  const actionNames = planSchema.definitions.action.properties.action.enum as PlannedAction['action'][];
  // For a supervised process and for any other; undefined: the action is skipped, as no adapter can carry it out.
  const expected: Record<string, [string | undefined, string | undefined]> = {
    restart: ['supervisor', undefined],
    stop: ['supervisor', undefined],
    signal: ['supervisor', 'signal'],
    kill: ['signal', 'signal'],
    pause: ['signal', 'signal'],
    resume: ['signal', 'signal'],
    set_oom_score_adj: ['oom', 'oom'],
  };
  for (const action of actionNames) {
    it(`${action}: the engine names one registered adapter, for a supervised process and for any other`, () => {
      const chosen = [adapterFor(action, true), adapterFor(action, false)];
      assert.deepEqual(chosen, expected[action], action);
      for (const name of chosen) if (name !== undefined) assert.ok(ADAPTERS.has(name), `${name} is registered`);
    });
  }

  const notifierTypes: Array<NotifierConfig['type']> = ['mail', 'exec', 'alertmanager', 'webhook'];
  for (const type of notifierTypes) {
    it(`a ${type} notifier: its adapter is registered under the notifier's type`, () => {
      assert.equal(ADAPTERS.get(type)?.name, type);
    });
  }
});
