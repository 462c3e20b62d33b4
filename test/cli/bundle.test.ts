// The bundled build (npm run bundle) is what a server runs: bundle/ copied anywhere runs with
// node alone, with no node_modules to resolve, each verb loading only what it uses, and two
// builds of one commit are byte-identical.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { startSmtpSink, type SmtpSink } from '../helpers/mail.js';
import { eventually } from '../helpers/processes.js';
import { STACK_TRACE, type CliRun } from '../helpers/run-cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'bundle');
// @ts-expect-error: a plain ESM script without type declarations
const { bundle } = (await import('../../scripts/bundle.mjs')) as { bundle: (options: { outdir: string }) => Promise<{ metafile: Metafile; outdir: string }> };
const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** Every file under dir, relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('the bundled build', function () {
  this.timeout(60000);
  /** A copy of bundle/ outside the repository, as /usr/lib/procguard is. */
  let installed: string;
  /** Where procguard runs from: outside the repository, with no node_modules above it. */
  let work: string;
  const children: ChildProcess[] = [];

  before(async () => {
    assert.ok((await filesUnder(BUNDLE).catch((): string[] => [])).includes('procguard.js'), 'bundle/procguard.js exists (npm run build writes it)');
    installed = await mkdtemp(join(tmpdir(), 'pg-bundle-lib-'));
    work = await mkdtemp(join(tmpdir(), 'pg-bundle-work-'));
    await cp(BUNDLE, installed, { recursive: true });
    await cp(join(ROOT, 'policies'), join(work, 'policies'), { recursive: true });
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  after(async () => {
    await rm(installed, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  /** `node INSTALLED/procguard.js ARGS` from the work directory, with a bare environment. */
  function procguard(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(installed, 'procguard.js'), ...args], {
        cwd: work,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('has no node_modules to fall back on where it runs', async () => {
    for (const dir of [installed, work]) {
      for (let up = dir; up !== '/'; up = join(up, '..')) {
        assert.ok(!(await readdir(up)).includes('node_modules'), `no node_modules in ${up}`);
      }
    }
  });

  it('--version prints the version of package.json', async () => {
    const run = await procguard(['--version']);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, `${version}\n`, '']);
  });

  it('validate checks the shipped policies', async () => {
    const run = await procguard(['validate', 'policies']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout + run.stderr, /policies: valid: \d+ policies/);
  });

  it('snapshot --json reads this host, and check --snapshot plans from what it wrote', async () => {
    const snapshot = await procguard(['snapshot', '--json']);
    assert.equal(snapshot.code, 0, snapshot.stderr);
    const parsed = JSON.parse(snapshot.stdout) as { processes: { pid: number }[] };
    assert.ok(
      parsed.processes.some((p) => p.pid === 1),
      'pid 1 is in the snapshot',
    );
    await writeFile(join(work, 'snapshot.json'), snapshot.stdout);
    const check = await procguard(['check', '--snapshot', 'snapshot.json', '-c', 'policies', '--json']);
    assert.ok(check.code === 0 || check.code === 1, check.stderr);
    assert.doesNotMatch(check.stderr, STACK_TRACE);
    const plan = JSON.parse(check.stdout) as { actions: unknown[] };
    assert.ok(Array.isArray(plan.actions));
  });

  describe('the libraries loaded on first use', () => {
    let smtp: SmtpSink;
    before(async () => {
      smtp = await startSmtpSink();
    });
    after(async () => {
      await smtp?.close();
    });

    it('apply renders a handlebars subject and sends it with nodemailer to a real SMTP server', async () => {
      const sleeper = spawn('sleep', ['2720031'], { stdio: 'ignore' });
      children.push(sleeper);
      await writeFile(
        join(work, 'mail.yaml'),
        `settings:\n  state_dir: ${join(work, 'state-mail')}\n` +
          `notifiers:\n  ops:\n    mail:\n      to: [ops@example.com]\n      from: procguard@example.com\n      smtp: ${smtp.url}\n` +
          `      subject: "bundle {{action}} {{target.name}} {{target.pid}} ({{status}})"\n` +
          'policies:\n  - { name: bundle-oom, kind: oom, match: { cmdline: "^sleep 2720031$" }, oom_score_adj: 271, notify: [ { to: ops } ] }\n',
      );
      const run = await procguard(['apply', '-c', 'mail.yaml']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await readFile(`/proc/${sleeper.pid}/oom_score_adj`, 'utf8')).trim(), '271');
      assert.equal(smtp.messages.length, 1, run.stderr);
      assert.match(smtp.messages[0]!.headers.get('subject') ?? '', new RegExp(`^bundle \\S+ sleep ${sleeper.pid} \\(done\\)$`));
    });

    it('run --listen serves prom-client metrics, and logs readable lines through pino-pretty', async () => {
      const port = await freePort();
      await writeFile(
        join(work, 'run.yaml'),
        `settings:\n  state_dir: ${join(work, 'state-run')}\npolicies:\n  - { name: bundle-idle, kind: oom, match: { cmdline: "^sleep 2720032$" }, oom_score_adj: 5 }\n`,
      );
      const daemon = spawn(process.execPath, [join(installed, 'procguard.js'), 'run', '-c', 'run.yaml', '--interval', '1s', '--listen', `127.0.0.1:${port}`], {
        cwd: work,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', PROCGUARD_LOG_FORMAT: 'pretty' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(daemon);
      let stderr = '';
      daemon.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      let metrics = '';
      await eventually(
        async () => {
          metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
            .then((response) => response.text())
            .catch(() => '');
          return /^procguard_\w+/m.test(metrics);
        },
        20000,
        `metrics on 127.0.0.1:${port} (stderr: ${stderr})`,
      );
      assert.match(metrics, /^# TYPE procguard_\w+ (counter|gauge|histogram)$/m);
      const exited = new Promise((resolve) => daemon.on('close', resolve));
      daemon.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.match(stderr, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO \(procguard\): /m, 'pino-pretty lines');
      assert.doesNotMatch(stderr, STACK_TRACE);
    });
  });

  it('loads handlebars, nodemailer, prom-client, pino and yaml’s full parser only with the verbs that use them, and holds no xmlrpc', async () => {
    const build = await bundle({ outdir: await mkdtemp(join(tmpdir(), 'pg-bundle-graph-')) });
    try {
      const outputs = build.metafile.outputs;
      const key = (name: string): string => Object.keys(outputs).find((path) => path.endsWith(name) || new RegExp(`/${name}-[A-Z0-9]+\\.js$`).test(path))!;
      /** The files an output loads before it runs: itself and its static imports, transitively. */
      const staticClosure = (start: string): Set<string> => {
        const seen = new Set<string>();
        const visit = (path: string): void => {
          if (seen.has(path)) return;
          seen.add(path);
          for (const imported of outputs[path]!.imports) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
        };
        visit(start);
        return seen;
      };
      const packagesIn = (paths: Set<string>): Set<string> =>
        new Set([...paths].flatMap((path) => Object.keys(outputs[path]!.inputs)).flatMap((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? []));
      const heavy = ['handlebars', 'nodemailer', 'prom-client', 'pino', 'pino-pretty', 'chokidar', 'xmlrpc'];
      for (const start of ['program', 'check', 'validate']) {
        const loaded = packagesIn(staticClosure(key(start)));
        assert.deepEqual(
          heavy.filter((name) => loaded.has(name)),
          [],
          `${start} loads ${[...loaded].join(', ')}`,
        );
      }
      // A plain policy file is read by js-yaml's event parser; yaml's full parser loads only for a file that needs it.
      for (const start of ['check', 'validate']) {
        const loaded = packagesIn(staticClosure(key(start)));
        assert.ok(loaded.has('js-yaml'), `${start} loads ${[...loaded].join(', ')}`);
        assert.ok(!loaded.has('yaml'), `${start} loads yaml's full parser before it reads a file: ${[...loaded].join(', ')}`);
      }
      // The data formats' validators are large: check loads the policy file's alone, validate
      // the policy file's and the hub file's, and the snapshot's or the state's only when they
      // read such a file.
      const sourcesIn = (paths: Set<string>): string[] => [...paths].flatMap((path) => Object.keys(outputs[path]!.inputs));
      for (const [start, expected] of [
        ['check', ['src/policy/policy-validator.generated.ts']],
        ['validate', ['src/policy/hub-validator.generated.ts', 'src/policy/policy-validator.generated.ts']],
      ] as const) {
        const validators = sourcesIn(staticClosure(key(start)))
          .filter((input) => input.endsWith('-validator.generated.ts'))
          .sort();
        assert.deepEqual(validators, expected, `${start} loads ${validators.join(', ')}`);
      }
      // XML-RPC calls are written by procguard itself: the xmlrpc package (and xmlbuilder with it)
      // is the tests' oracle, in no part of the bundle.
      const everything = packagesIn(new Set(Object.keys(outputs)));
      assert.deepEqual(
        ['xmlrpc', 'xmlbuilder'].filter((name) => everything.has(name)),
        [],
      );
      // --version is answered by the entry alone; the command line's definitions come with the first verb.
      assert.deepEqual([...packagesIn(staticClosure(key('procguard')))], []);
      assert.ok(packagesIn(staticClosure(key('program'))).has('commander'));
    } finally {
      await rm(build.outdir, { recursive: true, force: true });
    }
  });

  it('two builds are byte-identical and name no path of the machine that built them', async () => {
    const [first, second] = [await mkdtemp(join(tmpdir(), 'pg-bundle-a-')), await mkdtemp(join(tmpdir(), 'pg-bundle-b-'))];
    try {
      await bundle({ outdir: first });
      await bundle({ outdir: second });
      const files = await filesUnder(first);
      assert.deepEqual(await filesUnder(second), files);
      for (const file of files) {
        const [a, b] = [await readFile(join(first, file)), await readFile(join(second, file))];
        assert.ok(a.equals(b), `${file} differs between two builds`);
        const text = a.toString('utf8');
        for (const path of [ROOT, first, tmpdir() + '/']) assert.ok(!text.includes(path), `${file} names ${path}`);
      }
    } finally {
      await rm(first, { recursive: true, force: true });
      await rm(second, { recursive: true, force: true });
    }
  });
});
