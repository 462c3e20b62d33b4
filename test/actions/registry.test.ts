// The adapters' conformance: every module under src/actions/ is registered, and every kind of
// planned action and notifier is carried out by exactly one adapter.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ADAPTERS } from '../../src/actions/registry.js';
import type { Adapter, Work } from '../../src/actions/types.js';
import type { PlannedAction } from '../../src/data/types.js';
import type { NotifierConfig } from '../../src/policy/model.js';
import planSchema from '../../schemas/plan.schema.json' with { type: 'json' };

const ACTIONS_DIR = fileURLToPath(new URL('../../src/actions/', import.meta.url));
const source = { file: 'x.yaml', line: 1, column: 1 };

function actionWork(action: PlannedAction['action'], supervised: boolean): Work {
  return {
    type: 'action',
    action: {
      policy: 'p',
      kind: 'memory',
      action,
      mode: 'enforce',
      target: { pid: 10, start_time: 1, name: 'x', ...(supervised ? { supervisor: 'main', namespec: 'g:x' } : {}) },
      reason: 'r',
      status: 'planned',
    },
  };
}

const notifiers: NotifierConfig[] = [
  { type: 'mail', name: 'ops', to: ['a@example.com'], transport: { type: 'sendmail', command: 'sendmail -t', argv: ['sendmail', '-t'] }, timeout: 5, source },
  { type: 'exec', name: 'pager', argv: ['/bin/true'], timeout: 5, source },
];

const registrySource = readFileSync(join(ACTIONS_DIR, 'registry.ts'), 'utf8');

describe('action adapters: conformance', () => {
  it('registers the adapter of every module folder under src/actions/, once', async () => {
    const folders = readdirSync(ACTIONS_DIR).filter((name) => statSync(join(ACTIONS_DIR, name)).isDirectory());
    assert.deepEqual(folders.sort(), ['exec', 'mail', 'oom', 'signal', 'supervisor']);
    for (const folder of folders) {
      const module = (await import(pathToFileURL(join(ACTIONS_DIR, folder, `${folder}.js`)).href)) as { adapter?: Adapter };
      assert.ok(module.adapter, `src/actions/${folder}/${folder}.ts exports an adapter`);
      assert.equal(module.adapter.name, folder);
      // Compared by name and code: mocha may load this file's imports and a dynamic import as two module instances.
      const registered = ADAPTERS.filter((a) => a.name === folder);
      assert.equal(registered.length, 1, `${folder} is registered once`);
      assert.match(registrySource, new RegExp(`import \\{ adapter as \\w+ \\} from './${folder}/${folder}.js'`), `registry.ts imports the ${folder} adapter`);
    }
    assert.equal(ADAPTERS.length, folders.length);
  });

  const actionNames = planSchema.definitions.action.properties.action.enum as PlannedAction['action'][];
  const expected: Record<string, [string, string]> = {
    restart: ['supervisor', 'supervisor'],
    stop: ['supervisor', 'supervisor'],
    signal: ['supervisor', 'signal'],
    kill: ['signal', 'signal'],
    pause: ['signal', 'signal'],
    resume: ['signal', 'signal'],
    set_oom_score_adj: ['oom', 'oom'],
  };
  for (const action of actionNames) {
    it(`${action}: exactly one adapter, for a supervised process and for any other`, () => {
      for (const [index, supervised] of [true, false].entries()) {
        const accepting = ADAPTERS.filter((a) => a.accepts(actionWork(action, supervised))).map((a) => a.name);
        assert.deepEqual(accepting, [expected[action]?.[index]], `${action} ${supervised ? 'supervised' : 'unsupervised'}`);
      }
    });
  }

  for (const notifier of notifiers) {
    it(`a ${notifier.type} notifier: exactly one adapter`, () => {
      const work: Work = { type: 'notification', notification: { policy: 'p', to: notifier.name, subject: 's', body: 'b' }, notifier, event: {} };
      assert.deepEqual(ADAPTERS.filter((a) => a.accepts(work)).map((a) => a.name), [notifier.type]);
    });
  }
});
