// The bundled build's code cache (src/cli/launch.ts): a command's first run leaves the code V8
// compiled in code-cache/ beside the bundle, and later runs start from it. An entry is code
// that runs as root, and V8 runs an entry made for any other text of the same length, so the
// attacks here are real: an unprivileged user makes such an entry for a text of their own and
// plants it wherever they can, and root's run must never read it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { CODE_CACHE_DIR, wrapChunk } from '../../src/cli/launch.js';
import { REGEXP_ENGINE_FLAGS } from '../../src/shared/regexp-engine.js';
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
  const chunkOf = (entry: string): string => `${entry.replace(/-[0-9a-f]{24}-[0-9a-f]{8}\.v8$/, '')}.js`;

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
      const scratch = join(cacheDir, name);
      writeFileSync(join(work, 'planted.v8'), planted);
      chmodSync(join(work, 'planted.v8'), 0o644);
      user.run(['cp', join(work, 'planted.v8'), scratch]);
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
