// examples/gitops as a team uses it: a copy of it made a git repository, its CI scripts run as
// GitHub Actions and GitLab run them (procguard on PATH), then a branch that lowers a limit,
// reviewed through diff: the annotation on the changed line and the comment's Markdown.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { BIN } from '../helpers/run-cli.js';

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../../examples/gitops/', import.meta.url));

describe('examples/gitops: a fleet repository reviewed in CI', function () {
  this.timeout(120_000);
  let dir: string;
  let repo: string;
  let env: NodeJS.ProcessEnv;

  const sh = async (command: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(command, args, { cwd: repo, env: { ...env, ...extra } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number | string; stdout?: string; stderr?: string };
      if (typeof failed.code !== 'number') throw error;
      return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'procguard-gitops-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'procguard'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    chmodSync(join(bin, 'procguard'), 0o755);
    env = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'ci',
      GIT_AUTHOR_EMAIL: 'ci@example.com',
      GIT_COMMITTER_NAME: 'ci',
      GIT_COMMITTER_EMAIL: 'ci@example.com',
      TZ: 'UTC',
    };
    repo = join(dir, 'policies-repo');
    cpSync(EXAMPLE, repo, { recursive: true });
    rmSync(join(repo, 'reports'), { recursive: true, force: true });
    await sh('git', ['init', '-q', '-b', 'main']);
    await sh('git', ['add', '-A']);
    await sh('git', ['commit', '-qm', 'the fleet']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the CI definitions parse and run the scripts that exist', () => {
    const github = parse(readFileSync(join(repo, '.github/workflows/fleet.yml'), 'utf8')) as { jobs: Record<string, { steps: Array<{ run?: string }> }> };
    const runs = Object.values(github.jobs).flatMap((job) => job.steps.flatMap((s) => (s.run ? [s.run] : [])));
    assert.ok(runs.includes('ci/check.sh') && runs.includes('ci/review.sh'), runs.join('\n'));
    const gitlab = parse(readFileSync(join(repo, '.gitlab-ci.yml'), 'utf8')) as { include: Array<{ local: string }> };
    const included = parse(readFileSync(join(repo, gitlab.include[0]!.local), 'utf8')) as Record<string, { script?: string[]; artifacts?: { reports?: { junit?: string } } }>;
    assert.deepEqual(included['policy-check']!.script, ['ci/check.sh']);
    assert.equal(included['policy-check']!.artifacts!.reports!.junit, 'reports/policy-tests.xml');
  });

  it('ci/check.sh as GitHub Actions runs it: validates with annotations, tests, plans; web2 would act, which is not a failure', async () => {
    const result = await sh('sh', ['ci/check.sh'], { GITHUB_ACTIONS: 'true' });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^policies: valid: 7 policies/m);
    assert.match(result.stdout, /^4 passed, 0 failed$/m);
    assert.match(result.stdout, /^3 hosts: 1 would act \(web2\), 2 nothing to do \(batch1, web1\)$/m);
    assert.match(readFileSync(join(repo, 'reports/policy-tests.xml'), 'utf8'), /<testsuites name="procguard test" tests="4" failures="0" errors="0">/);
    assert.match(readFileSync(join(repo, 'reports/plan.md'), 'utf8'), /^\| web2 \| restart web:w2 \(pid 2202\) \(web-memory, planned\)/m);
    const sarif = JSON.parse(readFileSync(join(repo, 'reports/procguard.sarif'), 'utf8')) as { version: string };
    assert.equal(sarif.version, '2.1.0');
  });

  it('a policy made invalid fails ci/check.sh with an annotation on its line', async () => {
    const file = join(repo, 'policies/10-web.yaml');
    const good = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, good.replace('max_rss: 200MB', 'max_rss: 200 MB please'));
      const result = await sh('sh', ['ci/check.sh'], { GITHUB_ACTIONS: 'true' });
      assert.equal(result.code, 2);
      assert.match(result.stdout, /^::error file=policies\/10-web\.yaml,line=9,col=14,title=procguard invalid-value::Invalid size "200 MB please" for "max_rss"/m);
    } finally {
      writeFileSync(file, good);
    }
  });

  it('review of a branch that lowers a limit: what it does on each host, on the changed line and in the comment', async () => {
    await sh('git', ['checkout', '-qb', 'lower-web-limit']);
    const file = join(repo, 'policies/10-web.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('max_rss: 200MB', 'max_rss: 180MB'));
    await sh('git', ['commit', '-qam', 'web workers get 180MB']);

    const result = await sh('sh', ['ci/review.sh'], { GITHUB_ACTIONS: 'true', BASE: 'main' });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const annotations = result.stdout.split('\n').filter((l) => l.startsWith('::'));
    assert.deepEqual(annotations, [
      '::warning file=policies/10-web.yaml,line=9,col=5,title=procguard diff%3A web-memory::web-memory: limit 200.0 MiB → 180.0 MiB; would now restart web:w1 (pid 2201) on web2 (rss 185.0 MiB > 180.0 MiB)',
    ]);
    assert.equal(readFileSync(file, 'utf8').split('\n')[8], '    max_rss: 180MB', 'the annotation is on the changed line');
    const comment = readFileSync(join(repo, 'reports/diff.md'), 'utf8');
    const head = (await sh('git', ['rev-parse', '--short=12', 'main'])).stdout.trim();
    assert.equal(
      comment,
      [
        `### procguard diff against \`main (${head})\`: 1 policy change, actions change on 1 of 3 hosts`,
        '',
        '- web-memory: limit 200.0 MiB → 180.0 MiB; would now restart web:w1 (pid 2201) on web2 (rss 185.0 MiB \\> 180.0 MiB)',
        '',
        '| host | change | what |',
        '|---|---|---|',
        '| web2 | :heavy_plus_sign: restart | web:w1 (pid 2201) by web-memory (planned): rss 185.0 MiB \\> 180.0 MiB (cycle 2 of 2) |',
        '',
      ].join('\n'),
    );
    assert.equal((await sh('git', ['status', '--porcelain', '--untracked-files=no'])).stdout, '', 'the work tree is untouched');
  });
});
