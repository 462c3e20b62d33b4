// The bundled build's code cache (src/cli/launch.ts): a command's first run leaves the code V8
// compiled in code-cache/ beside the bundle, and later runs start from it. An entry is code
// that runs as root, and V8 runs an entry made for any other text of the same length, so the
// attacks here are real: an unprivileged user makes such an entry for a text of their own and
// plants it wherever they can, and root's run must never read it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { CODE_CACHE_DIR, wrapChunk } from '../../src/cli/launch.js';
import { REGEXP_ENGINE_FLAGS } from '../../src/shared/regexp-engine.js';
import { eventually } from '../helpers/processes.js';
import { unprivilegedUser, type UnprivilegedUser } from '../helpers/unprivileged-user.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// @ts-expect-error: a plain ESM script without type declarations
const { bundle } = (await import('../../scripts/bundle.mjs')) as { bundle: (options: { outdir: string }) => Promise<{ metafile: Metafile; outdir: string }> };
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** PROCGUARD_CODE_CACHE=report's line: where, and how many chunks came from it, were compiled and written. */
  report: { directory: string; hits: number; compiled: number; written: number } | { unused: string };
}

/** Makes, as `user`, a cache entry for `text` (wrapped as the loader wraps a chunk), under V8's flags as procguard sets them; returns its bytes. */
function entryFor(user: UnprivilegedUser, text: string, scratch: string): Buffer {
  const source = join(scratch, 'planted-source.js');
  const out = join(scratch, 'planted.v8');
  writeFileSync(source, wrapChunk(text));
  chmodSync(scratch, 0o777);
  const script = [
    "const v8 = require('node:v8'); const vm = require('node:vm'); const fs = require('node:fs');",
    'const [flags, source, out] = process.argv.slice(1);',
    'for (const flag of JSON.parse(flags)) v8.setFlagsFromString(flag);',
    "fs.writeFileSync(out, new vm.Script(fs.readFileSync(source, 'utf8'), { filename: source }).createCachedData());",
  ].join('\n');
  user.run([process.execPath, '-e', script, JSON.stringify(REGEXP_ENGINE_FLAGS), source, out]);
  const bytes = readFileSync(out);
  rmSync(out);
  return bytes;
}

describe('the code cache of the bundled build', function () {
  this.timeout(120000);
  let user: UnprivilegedUser;
  /** A bundle as /usr/lib/procguard holds one: root's, mode 0755. */
  let installed: string;
  let metafile: Metafile;
  /** Policies and a snapshot anyone may read. */
  let work: string;
  let cacheDir: string;

  before(async () => {
    user = unprivilegedUser('pgtest-codecache');
    installed = mkdtempSync(join(tmpdir(), 'pg-code-cache-lib-'));
    chmodSync(installed, 0o755);
    ({ metafile } = await bundle({ outdir: installed }));
    cacheDir = join(installed, CODE_CACHE_DIR);
    work = mkdtempSync(join(tmpdir(), 'pg-code-cache-work-'));
    chmodSync(work, 0o755);
    cpSync(join(ROOT, 'policies'), join(work, 'policies'), { recursive: true });
    const snapshot = spawnSync(process.execPath, [join(installed, 'procguard.js'), 'snapshot', '--json'], { encoding: 'utf8', env: { PATH: process.env.PATH, PROCGUARD_CODE_CACHE: '0' } });
    assert.equal(snapshot.status, 0, snapshot.stderr);
    writeFileSync(join(work, 'snapshot.json'), snapshot.stdout);
  });
  beforeEach(() => rmSync(cacheDir, { recursive: true, force: true }));
  after(() => {
    rmSync(installed, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  function procguard(args: string[], options: { asUser?: UnprivilegedUser; cache?: string } = {}): Run {
    const argv = [process.execPath, join(installed, 'procguard.js'), ...args];
    const [command, commandArgs] = options.asUser ? ['runuser', ['-u', options.asUser.name, '--', ...argv]] : [argv[0]!, argv.slice(1)];
    const run = spawnSync(command, commandArgs, { cwd: work, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', PROCGUARD_CODE_CACHE: options.cache ?? 'report' } });
    const used = /^procguard: code cache (\S+): (\d+) chunks from it, (\d+) compiled, (\d+) written$/m.exec(run.stderr);
    const unused = /^procguard: code cache not used: (.*)$/m.exec(run.stderr);
    return {
      code: run.status,
      stdout: run.stdout,
      stderr: run.stderr,
      report: used ? { directory: used[1]!, hits: Number(used[2]), compiled: Number(used[3]), written: Number(used[4]) } : { unused: unused?.[1] ?? '(no report)' },
    };
  }

  /** The chunk file an entry was written for. */
  const chunkOf = (entry: string): string => `${entry.replace(/-[0-9a-z]+(?:\.[0-9a-z]+){3}-[0-9a-f]{8}\.v8$/, '')}.js`;

  /** The cache's entries: file name → [owner, mode]. */
  function entries(): Map<string, [number, number]> {
    return new Map(
      readdirSync(cacheDir).map((name) => {
        const stats = lstatSync(join(cacheDir, name));
        return [name, [stats.uid, stats.mode & 0o7777]];
      }),
    );
  }

  /** The entry's name for the chunk that holds procguard's entry (what `--version` runs first), as root's run names it. */
  function mainEntry(): { name: string; chunk: string } {
    procguard(['--version']);
    const name = [...entries().keys()].find((entry) => /^procguard-[A-Z0-9]+-/.test(entry));
    assert.ok(name, `an entry for the main chunk among ${[...entries().keys()].join(', ')}`);
    const chunk = join(installed, 'chunks', chunkOf(name));
    assert.ok(existsSync(chunk), chunk);
    rmSync(cacheDir, { recursive: true, force: true });
    return { name, chunk };
  }

  /** An entry that V8 takes for the main chunk but runs other code: it prints who planted it. */
  function plantedEntry(chunk: string): Buffer {
    const real = readFileSync(chunk, 'utf8');
    const payload = `process.stdout.write("planted by uid ${user.uid}, run as uid " + process.geteuid() + "\\n");`;
    assert.ok(payload.length < real.length);
    const scratch = mkdtempSync(join(tmpdir(), 'pg-code-cache-attacker-'));
    try {
      return entryFor(user, payload + ' '.repeat(real.length - payload.length), scratch);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  it("a command's first run writes the chunks it ran, root's and read-only to others; the next run compiles none of them", () => {
    const first = procguard(['validate', 'policies']);
    assert.equal(first.code, 0, first.stderr);
    assert.ok('hits' in first.report, first.stderr);
    assert.equal(first.report.directory, cacheDir);
    assert.equal(first.report.hits, 0);
    assert.ok(first.report.compiled > 5, first.stderr);
    assert.equal(first.report.written, first.report.compiled);
    const dir = lstatSync(cacheDir);
    assert.deepEqual([dir.uid, dir.mode & 0o7777], [0, 0o755]);
    const written = entries();
    assert.equal(written.size, first.report.written);
    for (const [name, [uid, mode]] of written) assert.deepEqual([uid, mode], [0, 0o644], name);

    const second = procguard(['validate', 'policies']);
    assert.equal(second.stdout, first.stdout);
    assert.deepEqual(second.report, { directory: cacheDir, hits: first.report.compiled, compiled: 0, written: 0 });
    assert.deepEqual(entries(), written);
  });

  it('check --snapshot runs only the chunks it needs: none holds handlebars, nodemailer, prom-client, pino, chokidar or yaml’s full parser', () => {
    const run = procguard(['check', '--snapshot', 'snapshot.json', '-c', 'policies', '--json']);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    assert.ok(Array.isArray((JSON.parse(run.stdout) as { actions: unknown[] }).actions));
    // Each chunk the run compiled has its entry now: the entries name what it loaded.
    const ran = new Set([...entries().keys()].map(chunkOf));
    assert.ok('hits' in run.report && ran.size === run.report.compiled, run.stderr);
    const packages = new Set(
      Object.entries(metafile.outputs)
        .filter(([path]) => ran.has(basename(path)))
        .flatMap(([, output]) => Object.keys(output.inputs))
        .flatMap((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? []),
    );
    assert.ok(packages.has('commander') && packages.has('js-yaml'), [...packages].join(', '));
    for (const heavy of ['handlebars', 'nodemailer', 'prom-client', 'pino', 'pino-pretty', 'chokidar', 'yaml']) assert.ok(!packages.has(heavy), `check ran ${heavy}`);
  });

  it('an entry V8 takes for a chunk runs in its place: the cache root holds is trusted as the code is', () => {
    // The control for the attacks below: the planted entry works when it is where root writes.
    const { name, chunk } = mainEntry();
    mkdirSync(cacheDir, { mode: 0o755 });
    writeFileSync(join(cacheDir, name), plantedEntry(chunk), { mode: 0o644 });
    const run = procguard(['--version']);
    assert.equal(run.stdout, `planted by uid ${user.uid}, run as uid 0\n`);
  });

  it("another user's code-cache/, or one anyone may write, is never read, and root writes nothing into it", () => {
    const { name, chunk } = mainEntry();
    const planted = plantedEntry(chunk);
    for (const [how, mode, group] of [
      ['owned by the user', 0o755, 'user'],
      ['root’s, mode 0777', 0o777, 'root'],
      ['root’s, mode 0775, its group the user’s', 0o775, 'group'],
    ] as const) {
      rmSync(cacheDir, { recursive: true, force: true });
      mkdirSync(cacheDir);
      chmodSync(cacheDir, mode);
      if (group === 'user') chownSync(cacheDir, user.uid, user.gid);
      if (group === 'group') chownSync(cacheDir, 0, user.gid);
      // The user writes the entry there, as themselves.
      writeFileSync(join(work, 'planted.v8'), planted);
      chmodSync(join(work, 'planted.v8'), 0o644);
      user.run(['cp', join(work, 'planted.v8'), join(cacheDir, name)]);
      const run = procguard(['--version']);
      assert.equal(run.stdout, `${version}\n`, `code-cache/ ${how}: ${run.stderr}`);
      assert.ok('unused' in run.report && /owned by uid|writable by group or others/.test(run.report.unused), `${how}: ${run.stderr}`);
      assert.deepEqual([...entries().keys()], [name], `root wrote into code-cache/ ${how}`);
    }
  });

  it('an entry owned by another user, writable by others or reached through a link is never read, and is replaced', () => {
    const { name, chunk } = mainEntry();
    const planted = plantedEntry(chunk);
    const elsewhere = join(work, 'planted-elsewhere.v8');
    writeFileSync(elsewhere, planted, { mode: 0o644 });
    for (const [how, plant] of [
      ['owned by the user', () => (writeFileSync(join(cacheDir, name), planted, { mode: 0o644 }), chownSync(join(cacheDir, name), user.uid, user.gid))],
      ['root’s, mode 0666', () => (writeFileSync(join(cacheDir, name), planted), chmodSync(join(cacheDir, name), 0o666))],
      ['a link to a root-owned file elsewhere', () => symlinkSync(elsewhere, join(cacheDir, name))],
    ] as const) {
      rmSync(cacheDir, { recursive: true, force: true });
      mkdirSync(cacheDir, { mode: 0o755 });
      plant();
      const run = procguard(['--version']);
      assert.equal(run.stdout, `${version}\n`, `an entry ${how}: ${run.stderr}`);
      assert.ok('hits' in run.report && run.report.written >= 1, `${how}: ${run.stderr}`);
      const replaced = lstatSync(join(cacheDir, name));
      assert.ok(replaced.isFile() && replaced.uid === 0 && (replaced.mode & 0o777) === 0o644, `an entry ${how} is replaced by root's own`);
      assert.ok(!readFileSync(join(cacheDir, name)).equals(planted));
      assert.equal(procguard(['--version']).stdout, `${version}\n`);
    }
  });

  it('a chunk changed in place, to a text of the same length, is compiled from its new text, never from an entry for the old', () => {
    assert.equal(procguard(['--version']).stdout, `${version}\n`);
    const holder = readdirSync(join(installed, 'chunks')).find((name) => readFileSync(join(installed, 'chunks', name), 'utf8').includes(`VERSION="${version}"`));
    assert.ok(holder, 'the chunk that holds the version');
    const file = join(installed, 'chunks', holder);
    const original = readFileSync(file, 'utf8');
    const other = version.replace(/\d/g, '9');
    try {
      // The same file (same inode), rewritten with a text of the same length.
      writeFileSync(file, original.replace(`VERSION="${version}"`, `VERSION="${other}"`));
      const run = procguard(['--version']);
      assert.equal(run.stdout, `${other}\n`, run.stderr);
    } finally {
      writeFileSync(file, original);
    }
    assert.equal(procguard(['--version']).stdout, `${version}\n`);
  });

  it("code a user once put in a chunk stops running when the chunk is restored: root's entry for it is never used again", () => {
    const { chunk } = mainEntry();
    const original = readFileSync(chunk);
    const payload = `process.stdout.write("left by uid ${user.uid}\\n");`;
    const chunksDir = join(installed, 'chunks');
    try {
      // The mistake: chunks/ and the chunk writable by the user for a while.
      chmodSync(chunksDir, 0o777);
      chmodSync(chunk, 0o666);
      user.run([process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(chunk)}, ${JSON.stringify(payload)} + ' '.repeat(${original.length - payload.length}))`]);
      const fooled = procguard(['--version']);
      assert.equal(fooled.stdout, `left by uid ${user.uid}\n`, 'root ran the chunk the user wrote, as it would without a cache');
      assert.ok('hits' in fooled.report && fooled.report.written >= 1, fooled.stderr);
    } finally {
      // The fix: the chunk restored byte for byte, the modes put back.
      writeFileSync(chunk, original);
      chmodSync(chunk, 0o644);
      chmodSync(chunksDir, 0o755);
    }
    const run = procguard(['--version']);
    assert.equal(run.stdout, `${version}\n`, run.stderr);
  });

  it("root never uses a code cache in a bundle directory another user owns, though every file of the code is root's", () => {
    const { name, chunk } = mainEntry();
    const planted = plantedEntry(chunk);
    // The user made the directory (in /tmp, where anyone may); root copied a build into it.
    const theirs = join(tmpdir(), `pg-code-cache-theirs-${process.pid}`);
    user.run(['mkdir', '-m', '0755', theirs]);
    try {
      cpSync(installed, theirs, { recursive: true, filter: (path) => basename(path) !== CODE_CACHE_DIR });
      user.run(['mkdir', '-m', '0755', join(theirs, CODE_CACHE_DIR)]);
      writeFileSync(join(work, 'planted.v8'), planted, { mode: 0o644 });
      user.run(['cp', join(work, 'planted.v8'), join(theirs, CODE_CACHE_DIR, name)]);
      const run = spawnSync(process.execPath, [join(theirs, 'procguard.js'), '--version'], { encoding: 'utf8', env: { PATH: process.env.PATH, PROCGUARD_CODE_CACHE: 'report' } });
      assert.equal(run.stdout, `${version}\n`, run.stderr);
      assert.match(run.stderr, new RegExp(`code cache not used: ${theirs} is owned by uid ${user.uid}`));
      assert.deepEqual(readdirSync(join(theirs, CODE_CACHE_DIR)), [name]);
    } finally {
      rmSync(theirs, { recursive: true, force: true });
    }
  });

  it('the daemon, which changes a V8 flag as it starts, writes no entry the next run would refuse', async () => {
    writeFileSync(join(work, 'run.yaml'), `settings:\n  state_dir: ${join(work, 'state-run')}\npolicies:\n  - { name: idle, kind: oom, match: { cmdline: "^sleep 2720041$" }, oom_score_adj: 5 }\n`);
    const daemon = spawn(process.execPath, [join(installed, 'procguard.js'), 'run', '-c', 'run.yaml', '--interval', '1s'], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', PROCGUARD_CODE_CACHE: 'report', PROCGUARD_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    daemon.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise((resolve) => daemon.on('close', resolve));
    await eventually(() => /cycle/.test(stderr) && existsSync(join(work, 'state-run', 'state.json')), 20000, `a cycle of the daemon (stderr: ${stderr})`);
    daemon.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /^procguard: code cache \S+: 0 chunks from it, \d+ compiled, 0 written$/m);
    assert.deepEqual(readdirSync(cacheDir), []);
    // The commands' own entries, written by the next run, serve the one after.
    const validate = procguard(['validate', 'policies']);
    assert.ok('hits' in validate.report && validate.report.written === validate.report.compiled, validate.stderr);
    const again = procguard(['validate', 'policies']);
    assert.ok('hits' in again.report && again.report.compiled === 0 && again.report.hits === validate.report.compiled, again.stderr);
  });

  it("another user runs root's bundle from root's cache and writes nothing; without a cache directory of theirs they compile", () => {
    assert.equal(procguard(['--version']).code, 0);
    const rootEntries = entries();
    const run = procguard(['validate', 'policies'], { asUser: user });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /policies: valid: \d+ policies/);
    assert.ok('hits' in run.report && run.report.hits >= 1 && run.report.compiled >= 1 && run.report.written === 0, run.stderr);
    assert.deepEqual(entries(), rootEntries);
    // A bundle the user does not own, with no code-cache/ yet: they create none.
    rmSync(cacheDir, { recursive: true, force: true });
    const again = procguard(['--version'], { asUser: user });
    assert.equal(again.stdout, `${version}\n`);
    assert.ok('unused' in again.report, again.stderr);
    assert.ok(!existsSync(cacheDir));
  });

  it('an entry V8 refuses is compiled anew and replaced; PROCGUARD_CODE_CACHE=0 neither reads nor writes', () => {
    const { name } = mainEntry();
    mkdirSync(cacheDir, { mode: 0o755 });
    writeFileSync(join(cacheDir, name), Buffer.alloc(4096, 0x5a), { mode: 0o644 });
    const run = procguard(['--version']);
    assert.equal(run.stdout, `${version}\n`);
    assert.ok('hits' in run.report && run.report.hits === 0 && run.report.written === run.report.compiled, run.stderr);
    assert.ok(!readFileSync(join(cacheDir, name)).equals(Buffer.alloc(4096, 0x5a)));
    const third = procguard(['--version']);
    assert.ok('hits' in third.report && third.report.compiled === 0 && third.report.hits === run.report.compiled, third.stderr);

    rmSync(cacheDir, { recursive: true, force: true });
    const off = procguard(['validate', 'policies'], { cache: '0' });
    assert.equal(off.code, 0, off.stderr);
    assert.doesNotMatch(off.stderr, /code cache/);
    assert.ok(!existsSync(cacheDir));
  });
});
