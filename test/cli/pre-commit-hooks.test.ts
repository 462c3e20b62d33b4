// The hooks of .pre-commit-hooks.yaml run by Debian's real pre-commit on a throwaway policy
// repository, offline: the manifest is served from a local git repository, as pre-commit reads
// it from a tagged clone, and procguard comes from PATH (language: system).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FLEET_POLICIES, writeFleet } from '../helpers/fleet.js';
import { BIN } from '../helpers/run-cli.js';

const run = promisify(execFile);
const MANIFEST = new URL('../../.pre-commit-hooks.yaml', import.meta.url);

describe('.pre-commit-hooks.yaml with the pre-commit framework', function () {
  this.timeout(120_000);
  let dir: string;
  let policyRepo: string;
  let env: NodeJS.ProcessEnv;

  const inRepo = async (command: string, args: string[]): Promise<{ code: number; output: string }> => {
    try {
      const { stdout, stderr } = await run(command, args, { cwd: policyRepo, env });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code?: number | string; stdout?: string; stderr?: string };
      if (typeof failed.code !== 'number') throw error; // pre-commit or git missing: the test fails
      return { code: failed.code, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
    }
  };
  const git = (...args: string[]): Promise<{ code: number; output: string }> => inRepo('git', args);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'procguard-pre-commit-'));
    // procguard on PATH, as the .deb or npm install -g puts it there.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'procguard'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    chmodSync(join(bin, 'procguard'), 0o755);
    env = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: dir,
      PRE_COMMIT_HOME: join(dir, 'cache'),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'ci',
      GIT_AUTHOR_EMAIL: 'ci@example.com',
      GIT_COMMITTER_NAME: 'ci',
      GIT_COMMITTER_EMAIL: 'ci@example.com',
      TZ: 'UTC',
    };

    // The hook repository: the manifest as committed here, tagged.
    const hooks = join(dir, 'hooks');
    mkdirSync(hooks);
    copyFileSync(MANIFEST, join(hooks, '.pre-commit-hooks.yaml'));
    await run('git', ['init', '-q'], { cwd: hooks, env });
    await run('git', ['add', '-A'], { cwd: hooks, env });
    await run('git', ['commit', '-qm', 'hooks'], { cwd: hooks, env });
    await run('git', ['tag', 'v1'], { cwd: hooks, env });

    // The policy repository that uses them.
    policyRepo = join(dir, 'policies-repo');
    writeFleet(policyRepo);
    mkdirSync(join(policyRepo, 'tests'));
    writeFileSync(
      join(policyRepo, 'tests', 'web.test.yaml'),
      `policies: [../policies]
tests:
  - name: a leaking worker on web1 is restarted
    cycles:
      - snapshot: ../snapshots/web1.json
        expect: { actions: [ { policy: web-memory, action: restart, target: { namespec: "web:w2" } } ] }
`,
    );
    writeFileSync(join(policyRepo, '.pre-commit-config.yaml'), `repos:\n  - repo: ${hooks}\n    rev: v1\n    hooks:\n      - id: procguard-validate\n      - id: procguard-test\n`);
    await git('init', '-q');
    await git('add', '-A');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('both hooks pass on a valid repository', async () => {
    const result = await inRepo('pre-commit', ['run', '--all-files']);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /^procguard validate\.+Passed$/m);
    assert.match(result.output, /^procguard test\.+Passed$/m);
  });

  it('a broken policy fails procguard-validate with FILE:LINE:COL, and pre-commit install stops the commit', async () => {
    writeFileSync(join(policyRepo, 'policies', 'fleet.yaml'), FLEET_POLICIES.replace('max_rss: 250MiB', 'max_rss: 250 megabytes'));
    await git('add', '-A');
    const result = await inRepo('pre-commit', ['run', '--all-files']);
    assert.equal(result.code, 1);
    assert.match(result.output, /^procguard validate\.+Failed$/m);
    assert.match(result.output, /^policies\/fleet\.yaml:10:14: error: Invalid size "250 megabytes" for "max_rss" in policy "web-memory"/m);

    assert.equal((await inRepo('pre-commit', ['install'])).code, 0);
    const commit = await git('commit', '-qm', 'raise the limit');
    assert.notEqual(commit.code, 0, 'the commit is refused');
    assert.match(commit.output, /Invalid size "250 megabytes"/);
    assert.notEqual((await git('rev-parse', '--verify', '-q', 'HEAD')).code, 0, 'nothing was committed');
  });

  it('a policy change that breaks a test fails procguard-test', async () => {
    writeFileSync(join(policyRepo, 'policies', 'fleet.yaml'), FLEET_POLICIES.replace('max_rss: 250MiB', 'max_rss: 400MiB'));
    await git('add', '-A');
    const result = await inRepo('pre-commit', ['run', 'procguard-test', '--all-files']);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /^procguard test\.+Failed$/m);
    assert.match(result.output, /✗ a leaking worker on web1 is restarted/);
  });
});
