// The bundled build's loader. `npm run bundle` writes procguard's code as chunks, each a
// CommonJS function body (scripts/bundle.mjs), and an entry (bundle/procguard.js, in the Debian
// package /usr/lib/procguard/procguard.js) that runs them through here. A chunk is compiled
// with V8's code cache: the first run of a command on a machine leaves, in code-cache/ beside
// the entry, the code V8 compiled for each chunk it ran, and later runs start from it instead
// of parsing and compiling that code again: a check of 100 policies against a 1,000-process
// snapshot takes about 25 ms less, a sixth of its time (docs/performance.md).
//
// A cache entry is code that runs as whoever runs procguard, root included, and V8 checks
// only that it was made by the same V8 with the same flags for a text of the same length (it
// runs an entry made for other code of that length). So an entry is trusted as the code is, by
// the user who runs it, and no further:
//   - The bundle's directory, code-cache/ in it and every entry must be owned by root or by the
//     user running procguard and be writable by no one else: a root run trusts root's files
//     alone. code-cache/ must be a directory and an entry a regular file, neither reached
//     through a link (entries are opened with O_NOFOLLOW).
//   - Only the owner of code-cache/ writes it (a new file, then renamed into place), and only
//     the bundle directory's owner creates it. Nobody else's run writes anything.
//   - An entry is named after its chunk file as it is now, as Python names a .pyc after its
//     source: the file's inode, size, and last modification and change times to the
//     nanosecond (a change time no one can set back), and node's version, architecture and
//     options. A chunk edited or replaced, even to the same length, never meets an entry made
//     for its earlier text.
//   - Nothing is written when V8's flags changed while procguard ran (the daemon sets one):
//     V8 would refuse such an entry on the next run.
// Anything else (a missing or untrusted directory, a read-only file system, an entry V8
// refuses) only means compiling as if there were no cache. PROCGUARD_CODE_CACHE=0 turns it
// off; PROCGUARD_CODE_CACHE=report says on stderr, at exit, what it did.

import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { Script } from 'node:vm';
import { errorText } from '../shared/errors.js';
import { ExitCode } from '../shared/exit-codes.js';
import { setRegexpEngineFlags } from '../shared/regexp-engine.js';

/** The cache's directory, beside the entry. */
export const CODE_CACHE_DIR = 'code-cache';

/** No chunk's cache comes near this; a larger file is not read. */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/** What a run did with the cache: PROCGUARD_CODE_CACHE=report prints it, and the tests read it. */
export interface CacheReport {
  /** The cache's directory, or why none is used. */
  directory: string | { unused: string };
  /** Chunks (file names) compiled from an entry V8 accepted. */
  hits: string[];
  /** Chunks compiled without one: no entry, or one V8 refused. */
  misses: string[];
  /** Entries written at exit. */
  written: number;
}

/** FNV-1a, 32 bits, as 8 hex digits: a short name for node's version and options. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** Owned by root or by the user running procguard, and writable by no one else. */
function trustworthy(stats: { uid: number | bigint; mode: number | bigint }, euid: number): boolean {
  const uid = Number(stats.uid);
  return (uid === 0 || uid === euid) && (Number(stats.mode) & 0o022) === 0;
}

/**
 * code-cache/ beside the entry, when it can be trusted (created first when this process owns
 * the bundle's directory), and whether this process may write it; otherwise why it is not used.
 */
function cacheDirectory(root: string, euid: number): { path: string; writable: boolean } | { unused: string } {
  const path = join(root, CODE_CACHE_DIR);
  try {
    const rootStats = lstatSync(root);
    if (!trustworthy(rootStats, euid)) return { unused: `${root} is owned by uid ${rootStats.uid} or writable by group or others` };
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || rootStats.uid !== euid) return { unused: `${path} is not there` };
      try {
        mkdirSync(path, { mode: 0o755 });
      } catch (mkdirError) {
        // Another run made it first: it is judged like any other.
        if ((mkdirError as NodeJS.ErrnoException).code !== 'EEXIST') throw mkdirError;
      }
      stats = lstatSync(path);
    }
    if (!stats.isDirectory()) return { unused: `${path} is not a directory` };
    if (!trustworthy(stats, euid)) return { unused: `${path} is owned by uid ${stats.uid} or writable by group or others` };
    return { path, writable: stats.uid === euid };
  } catch (error) {
    return { unused: `${path}: ${(error as Error).message}` };
  }
}

/** A chunk's text as the function it runs as: the wrapper node gives a CommonJS module (the line break ends a trailing comment). */
export function wrapChunk(text: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${text}\n})`;
}

/**
 * A chunk's text, and what names its entries: the file's inode, size, and modification and
 * change times in nanoseconds, as they are now, read from the descriptor the text is read from.
 */
function readChunk(file: string): { text: string; identity: string } {
  const fd = openSync(file, constants.O_RDONLY);
  try {
    const stats = fstatSync(fd, { bigint: true });
    const text = readFileSync(fd, 'utf8');
    return { text, identity: [stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].map((n) => n.toString(36)).join('.') };
  } finally {
    closeSync(fd);
  }
}

interface ChunkModule {
  exports: unknown;
}

export class ChunkLoader {
  private readonly modules = new Map<string, ChunkModule>();
  /** Compiled without an entry, to be written at exit. */
  private readonly pending: { script: Script; entry: string }[] = [];
  private readonly nodeRequire: NodeJS.Require;
  private readonly cache: { path: string; writable: boolean } | undefined;
  private readonly euid: number;
  /** Folded into every entry's name: node, and the options that change what V8 compiles. */
  private readonly runtimeKey: string;
  /** A tiny script's cached data, made under the flags the chunks are compiled with: V8 refuses it at exit if they changed. */
  private readonly flagProbe: Buffer | undefined;
  readonly report: CacheReport;

  constructor(root: string, options: { cache: boolean }) {
    this.nodeRequire = createRequire(join(root, 'procguard.js'));
    this.euid = process.geteuid?.() ?? -1;
    this.runtimeKey = fnv1a([process.version, process.arch, ...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\0'));
    const directory = options.cache ? cacheDirectory(root, this.euid) : { unused: 'PROCGUARD_CODE_CACHE=0' };
    this.cache = 'path' in directory ? directory : undefined;
    this.report = { directory: 'path' in directory ? directory.path : directory, hits: [], misses: [], written: 0 };
    if (this.cache?.writable) {
      this.flagProbe = new Script('0', { filename: 'procguard-flag-probe' }).createCachedData();
      process.on('exit', () => this.writePending());
    }
  }

  /** Runs the chunk at `file` (once; later calls return what the first returned) and returns its exports. */
  load(file: string): unknown {
    const known = this.modules.get(file);
    if (known) return known.exports;
    const chunk: ChunkModule = { exports: {} };
    this.modules.set(file, chunk);
    const { text, identity } = readChunk(file);
    const entry = this.cache ? join(this.cache.path, `${basename(file, '.js')}-${identity}-${this.runtimeKey}.v8`) : undefined;
    const cachedData = entry !== undefined ? this.readEntry(entry) : undefined;
    const script = new Script(wrapChunk(text), { filename: file, cachedData });
    if (cachedData !== undefined && !script.cachedDataRejected) this.report.hits.push(basename(file));
    else {
      this.report.misses.push(basename(file));
      if (entry !== undefined && this.cache?.writable) this.pending.push({ script, entry });
    }
    const run = script.runInThisContext() as (...args: unknown[]) => void;
    run.call(chunk.exports, chunk.exports, this.requireFor(dirname(file)), chunk, file, dirname(file));
    return chunk.exports;
  }

  /** A chunk's `require`: another chunk by its relative path, anything else (node's own modules) from node. */
  private requireFor(dir: string): NodeJS.Require {
    const nodeRequire = this.nodeRequire;
    const require = ((id: string) => (id.startsWith('./') || id.startsWith('../') ? this.load(resolve(dir, id)) : nodeRequire(id))) as NodeJS.Require;
    return Object.assign(require, { resolve: nodeRequire.resolve, cache: nodeRequire.cache, extensions: nodeRequire.extensions, main: nodeRequire.main });
  }

  /** The entry's bytes, when it is there and trusted. */
  private readEntry(entry: string): Buffer | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(entry, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      const stats = fstatSync(fd);
      if (!stats.isFile() || !trustworthy(stats, this.euid) || stats.size > MAX_ENTRY_BYTES) return undefined;
      const bytes = Buffer.allocUnsafe(stats.size);
      for (let read = 0; read < bytes.length;) {
        const n = readSync(fd, bytes, read, bytes.length - read, null);
        if (n === 0) return undefined;
        read += n;
      }
      return bytes;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** At exit: what V8 compiled for each chunk that had no entry, every function that ran included. */
  private writePending(): void {
    // Another text of the same length as the probe's, so that V8 reads the data rather than
    // finding '0' compiled already; refused, the flags changed and any entry would be too.
    if (new Script('1', { filename: 'procguard-flag-probe', cachedData: this.flagProbe }).cachedDataRejected) return;
    for (const { script, entry } of this.pending.splice(0)) {
      const temporary = join(dirname(entry), `.${basename(entry)}.${process.pid}`);
      let fd: number | undefined;
      try {
        const data = script.createCachedData();
        fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
        for (let written = 0; written < data.length;) written += writeSync(fd, data, written);
        closeSync(fd);
        fd = undefined;
        renameSync(temporary, entry);
        this.report.written += 1;
      } catch {
        // A read-only or full file system: the next run compiles again.
        if (fd !== undefined) closeSync(fd);
        try {
          unlinkSync(temporary);
        } catch {
          // Never created, or already gone.
        }
      }
    }
  }
}

/** PROCGUARD_CODE_CACHE=report's line. */
export function reportLine(report: CacheReport): string {
  if (typeof report.directory !== 'string') return `procguard: code cache not used: ${report.directory.unused}\n`;
  return `procguard: code cache ${report.directory}: ${report.hits.length} chunks from it, ${report.misses.length} compiled, ${report.written} written\n`;
}

/**
 * Runs the bundle whose entry is in `root`: sets the V8 flags every chunk is compiled under,
 * then runs `main` (a chunk path relative to root). Returns the loader.
 */
export function launch(root: string, main: string, env: NodeJS.ProcessEnv = process.env): ChunkLoader {
  setRegexpEngineFlags();
  const loader = new ChunkLoader(root, { cache: env.PROCGUARD_CODE_CACHE !== '0' });
  // Registered after the loader's own: the entries are written by the time it reports.
  if (env.PROCGUARD_CODE_CACHE === 'report') process.on('exit', () => process.stderr.write(reportLine(loader.report)));
  try {
    loader.load(join(root, main));
  } catch (error) {
    // A chunk missing or unreadable: the installation is broken, which no stack trace explains.
    process.stderr.write(`procguard: internal error: the bundled build in ${root} cannot run: ${errorText(error, { code: true })}\n`);
    process.exitCode = ExitCode.INTERNAL_ERROR;
  }
  return loader;
}
