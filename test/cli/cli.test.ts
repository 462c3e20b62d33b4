import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcguard, STACK_TRACE } from '../helpers/run-cli.js';

const VALID = 'policies:\n  - { name: oom-sshd, kind: oom, match: { name: sshd, user: root }, oom_score_adj: -1000 }\n';

describe('procguard command line', function () {
  this.timeout(30000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'procguard-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help lists the verbs and exits 0', async () => {
    const run = await runProcguard(['--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /Usage: procguard \[options\] \[command\]/);
    assert.match(run.stdout, /validate \[options\] \[paths\.\.\.\]/);
  });

  it('validate --help explains -c, PATH and the exit status', async () => {
    const run = await runProcguard(['validate', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /-c, --config <path>/);
    assert.match(run.stdout, /Exit status: 0 valid \(warnings allowed\), 2 invalid/);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const run = await runProcguard(['--version']);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `${version}\n`);
  });

  const usageErrors: Array<[string, string[], RegExp]> = [
    ['an unknown verb', ['frobnicate'], /error: unknown command 'frobnicate'/],
    ['an unknown option', ['validate', '--colour'], /error: unknown option '--colour'/],
    ['-c without its path', ['validate', '-c'], /error: option '-c, --config <path>' argument missing/],
    ['no verb at all', [], /Usage: procguard/],
  ];
  for (const [name, args, message] of usageErrors) {
    it(`${name}: usage on stderr, exit 2`, async () => {
      const run = await runProcguard(args);
      assert.equal(run.code, 2);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, message);
      assert.match(run.stderr, /Usage: procguard/);
      assert.doesNotMatch(run.stderr, STACK_TRACE);
    });
  }

  it('validate without -c reads $PROCGUARD_CONFIG', async () => {
    const file = join(dir, 'env.yaml');
    await writeFile(file, VALID);
    const run = await runProcguard(['validate'], { env: { PATH: process.env.PATH, PROCGUARD_CONFIG: file } });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stdout, `${file}: valid: 1 policy (oom 1), 0 supervisors, 0 notifiers in 1 file\n`);
  });

  it('validate --json prints every diagnostic with its place, code and message', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'policies:\n  - { name: a, kind: oom, match: { name: sshd }, oom_score_adj: 5000 }\n');
    const run = await runProcguard(['validate', '--json', '-c', file]);
    assert.equal(run.code, 2);
    assert.deepEqual(JSON.parse(run.stdout), [
      {
        file,
        line: 2,
        column: 65,
        severity: 'error',
        code: 'invalid-value',
        message: '"oom_score_adj" in policy "a" must be between -1000 and 1000, not 5000',
      },
    ]);
  });

  it('a file with control characters and odd Unicode gets one clean line per problem', async () => {
    const file = join(dir, 'odd.yaml');
    await writeFile(file, 'policies:\n  - { name: a, kind: oom, match: { name: "ss\\u001b[31mhd\\u2028x" }, oom_score_adj: 0, "k\\ney": 1 }\n');
    const run = await runProcguard(['validate', '-c', file]);
    assert.equal(run.code, 2);
    const lines = run.stdout.trimEnd().split('\n');
    assert.deepEqual(lines, [
      `${file}:2:87: error: Unexpected key "k\\ney" in policy "a". Allowed keys: name, kind, description, mode, match, hosts, notify, oom_score_adj, oom_adj`,
      `${dir}/odd.yaml: invalid: 1 error in 1 file`,
    ]);
    assert.doesNotMatch(run.stdout, /\u001b/);
  });

  it('a mapping key that is a list: a diagnostic, and nothing but usage output on stderr', async () => {
    const file = join(dir, 'complex-key.yaml');
    await writeFile(file, '? [a, b]\n: c\n');
    const run = await runProcguard(['validate', '-c', file]);
    assert.equal(run.code, 2);
    assert.match(run.stdout, /1:1: error: Unexpected key "\[ a, b \]" at the top level/);
    assert.equal(run.stderr, '');
  });

  it('as root, refuses a policy file others can write (and only then)', async () => {
    const file = join(dir, 'loose.yaml');
    await writeFile(file, VALID);
    await chmod(file, 0o666);
    const run = await runProcguard(['validate', '-c', file]);
    if (process.getuid?.() === 0) {
      assert.equal(run.code, 2);
      assert.match(run.stdout, /Refused: policy file .* is writable by group and others \(mode 0666\), and procguard runs as root; fix with: chmod go-w /);
    } else {
      assert.equal(run.code, 0, run.stdout);
    }
  });

  it('validate policies examples: the shipped sets are valid', async () => {
    const root = new URL('../../', import.meta.url).pathname;
    const run = await runProcguard(['validate', 'policies', 'examples'], { cwd: root });
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /^policies: valid: /m);
    assert.match(run.stdout, /^examples\/gitops\/policies: valid: /m);
    assert.match(run.stdout, /^examples\/prometheus: skipped: no procguard file \(top-level keys .*prometheus\.yml: global, rule_files, scrape_configs\)$/m);
  });
});

describe('procguard check --json', () => {
  it('prints a plan valid against schemas/plan.schema.json', async () => {
    const { dataValidator } = await import('../helpers/data-validators.js');
    const { readFile } = await import('node:fs/promises');
    const plan = JSON.parse(await readFile(new URL('../scenarios/check-json/stdout', import.meta.url), 'utf8')) as unknown;
    const validate = dataValidator('plan.schema.json');
    assert.ok(validate(plan), JSON.stringify(validate.errors));
  });
});

describe('procguard snapshot', () => {
  it('--json prints a valid snapshot of this host with every field, which check --snapshot reads back', async () => {
    const { dataValidator } = await import('../helpers/data-validators.js');
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const run = await runProcguard(['snapshot', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const snapshot = JSON.parse(run.stdout) as { self: number; processes: Array<{ pid: number; ppid?: number; cmdline?: string; oom_score_adj?: number; uid?: number }> };
    const validate = dataValidator('snapshot.schema.json');
    assert.ok(validate(snapshot), JSON.stringify(validate.errors));
    const self = snapshot.processes.find((p) => p.pid === snapshot.self);
    assert.ok(self?.cmdline?.includes('snapshot --json'), self?.cmdline);
    assert.equal(typeof self?.oom_score_adj, 'number');
    assert.equal(self?.ppid, process.pid);
    const dir = await mkdtemp(join(tmpdir(), 'pg-snap-'));
    try {
      await writeFile(join(dir, 'snap.json'), run.stdout);
      await writeFile(join(dir, 'p.yaml'), 'policies: [{ name: all, kind: memory, mode: audit, match: { cmdline: "." }, max_rss: 1 }]\n', { mode: 0o600 });
      const check = await runProcguard(['check', '-c', join(dir, 'p.yaml'), '--snapshot', join(dir, 'snap.json'), '--json']);
      assert.equal(check.code, 0, check.stderr);
      const plan = JSON.parse(check.stdout) as { actions: Array<{ target: { pid: number }; status: string }> };
      assert.ok(plan.actions.length > 0 && plan.actions.every((a) => a.status === 'skipped'));
      assert.ok(!plan.actions.some((a) => a.target.pid === snapshot.self || a.target.pid === process.pid), 'procguard and its parents are never matched');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints a table by default', async () => {
    const run = await runProcguard(['snapshot']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^PID\s+PPID\s+USER\s+RSS\s+UPTIME\s+S\s+PROGRAM\s+NAME\s+COMMAND\n/);
    assert.match(run.stdout, /\n\S+: \d+ processes, load [\d.]+ [\d.]+ [\d.]+\n$/);
  });
});
