// The configuration of the long-running modes: which policies a reload changed (their
// cycle counts start afresh, the others keep theirs), and a real file watcher that sees edits
// in place, saves by rename, new files, and nothing else.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigWatcher, loadConfig, policyChanges, RELOAD_DEBOUNCE_MS } from '../../src/modes/config.js';
import { policySetOf } from '../helpers/snapshots.js';
import { eventually, sleep } from '../helpers/processes.js';

const BASE = `
policies:
  - { name: web-memory, kind: memory, description: leaks, match: { program: "web:*" }, max_rss: 200MB }
  - { name: rsync-backoff, kind: load, match: { cmdline: "^rsync " }, pause_above: 4.0 }
  - { name: oom-sshd, kind: oom, match: { name: sshd }, oom_score_adj: -1000 }
`;

describe('policy changes across a reload', () => {
  const cases: Array<{ name: string; after: string; expected: { added: string[]; changed: string[]; removed: string[] } }> = [
    { name: 'the same file', after: BASE, expected: { added: [], changed: [], removed: [] } },
    {
      name: 'a new description and another order change nothing that counts',
      after: `
policies:
  - { name: oom-sshd, kind: oom, match: { name: sshd }, oom_score_adj: -1000 }
  - { name: web-memory, kind: memory, description: leaks less now, match: { program: "web:*" }, max_rss: 200MB }
  - { name: rsync-backoff, kind: load, match: { cmdline: "^rsync " }, pause_above: 4.0 }
`,
      expected: { added: [], changed: [], removed: [] },
    },
    {
      name: 'a new limit, a new regex, one policy gone and one added',
      after: `
policies:
  - { name: web-memory, kind: memory, match: { program: "web:*" }, max_rss: 300MB }
  - { name: rsync-backoff, kind: load, match: { cmdline: "^rsync -a" }, pause_above: 4.0 }
  - { name: oom-named, kind: oom, match: { name: named }, oom_adj: -8 }
`,
      expected: { added: ['oom-named'], changed: ['web-memory', 'rsync-backoff'], removed: ['oom-sshd'] },
    },
    {
      name: 'a default written out is no change',
      after: BASE.replace('max_rss: 200MB }', 'max_rss: 200MB, for: 1, action: restart }'),
      expected: { added: [], changed: [], removed: [] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(policyChanges(policySetOf(BASE), policySetOf(c.after)), c.expected);
    });
  }
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-config-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('a valid set lists its files with the templates they name; an invalid one only its diagnostics', async () => {
    await writeFile(join(dir, 'body.hbs'), '{{target.name}} restarted\n');
    await writeFile(
      join(dir, 'a.yaml'),
      'notifiers:\n  ops: { mail: { to: root, body_file: body.hbs } }\npolicies:\n  - { name: p, kind: oom, match: { name: x }, oom_score_adj: 1, notify: [ { to: ops } ] }\n',
    );
    const good = await loadConfig([dir]);
    assert.deepEqual(good.config?.files, [join(dir, 'a.yaml'), join(dir, 'body.hbs')]);
    await writeFile(join(dir, 'b.yaml'), 'policies: [\n');
    const bad = await loadConfig([dir]);
    assert.equal(bad.config, undefined);
    assert.match(bad.messages.join('\n'), new RegExp(`^${join(dir, 'b.yaml')}:2:1: error: YAML: `, 'm'));
  });
});

describe('ConfigWatcher: a real file watcher on the policy files', function () {
  this.timeout(20000);
  let dir: string;
  let watcher: ConfigWatcher | undefined;
  const changes: string[] = [];
  const errors: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-watch-'));
    await mkdir(join(dir, 'conf.d'));
    await writeFile(join(dir, 'conf.d', '10-web.yaml'), BASE);
    await writeFile(join(dir, 'single.yaml'), BASE);
    await writeFile(join(dir, 'neighbour.yaml'), BASE);
    changes.length = 0;
    errors.length = 0;
  });
  afterEach(async () => {
    await watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function watching(paths: string[]): Promise<ConfigWatcher> {
    watcher = new ConfigWatcher(
      paths,
      {},
      (path) => changes.push(path),
      (message) => errors.push(message),
    );
    await sleep(300); // the watcher's initial scan
    return watcher;
  }
  /** Long enough for any event, and the debounce after it, to have arrived. */
  const settle = (): Promise<void> => sleep(RELOAD_DEBOUNCE_MS + 500);

  it('an edit in place, a save by rename, a new file in a conf.d directory: one reload each', async () => {
    await watching([join(dir, 'conf.d')]);
    const file = join(dir, 'conf.d', '10-web.yaml');
    await writeFile(file, `${BASE}\n# edited\n`);
    await eventually(() => changes.length === 1, 5000, 'the edit');
    await writeFile(`${file}.swp`, 'editor swap file');
    await writeFile(join(dir, 'conf.d', 'tmp-save'), BASE);
    await rename(join(dir, 'conf.d', 'tmp-save'), file);
    await eventually(() => changes.length === 2, 5000, 'the save by rename');
    await writeFile(join(dir, 'conf.d', '20-new.yml'), BASE);
    await eventually(() => changes.length === 3, 5000, 'the new file');
    await settle();
    assert.deepEqual(changes, [file, file, join(dir, 'conf.d', '20-new.yml')]);
    assert.deepEqual(errors, []);
  });

  it('files that are not policies are not watched: notes, swap files, policy tests, subdirectories', async () => {
    await watching([join(dir, 'conf.d')]);
    await writeFile(join(dir, 'conf.d', 'README.md'), 'notes');
    await writeFile(join(dir, 'conf.d', '.10-web.yaml.swp'), 'swap');
    await writeFile(join(dir, 'conf.d', 'web.test.yaml'), 'tests: []');
    await mkdir(join(dir, 'conf.d', 'archive'));
    await writeFile(join(dir, 'conf.d', 'archive', 'old.yaml'), BASE);
    await settle();
    assert.deepEqual(changes, []);
  });

  it('a single file given with -c: its own edits, not its neighbours', async () => {
    const w = await watching([join(dir, 'single.yaml')]);
    await writeFile(join(dir, 'neighbour.yaml'), `${BASE}\n# edited\n`);
    await settle();
    assert.deepEqual(changes, []);
    await writeFile(join(dir, 'single.yaml'), `${BASE}\n# edited\n`);
    await eventually(() => changes.length === 1, 5000, 'the edit');
    // A template the set names is followed too, wherever it lives.
    await mkdir(join(dir, 'templates'));
    await writeFile(join(dir, 'templates', 'body.hbs'), 'one');
    w.follow([join(dir, 'templates', 'body.hbs')]);
    await sleep(300);
    await writeFile(join(dir, 'templates', 'body.hbs'), 'two');
    await eventually(() => changes.length === 2, 5000, 'the template edit');
    assert.equal(changes[1], join(dir, 'templates', 'body.hbs'));
  });

  it('a burst of writes makes one reload', async () => {
    await watching([join(dir, 'conf.d')]);
    for (let i = 0; i < 5; i += 1) await writeFile(join(dir, 'conf.d', '10-web.yaml'), `${BASE}\n# ${i}\n`);
    await settle();
    assert.equal(changes.length, 1);
  });
});
