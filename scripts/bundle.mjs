// `npm run bundle`: procguard as a self-contained bundle in bundle/, the way a server runs it
// (`node bundle/procguard.js`, or /usr/lib/procguard/procguard.js from the Debian package).
// Every dependency is inside it; nothing is resolved from node_modules at run time. The verbs,
// and the heavy libraries they alone use (handlebars, nodemailer, prom-client, pino-pretty),
// are chunks of their own, loaded when first needed, so a verb loads only what it runs.
//
// esbuild splits the code as ES modules; each chunk is then written as a CommonJS function
// body, and bundle/procguard.js is a small loader (src/cli/launch.ts) that runs them through
// V8's code cache, which node offers for scripts but not for ES modules. The chunk graph, and
// so what each verb loads, is the one esbuild split.
//
// The output depends on the sources only: no absolute path, date or build-machine detail, so
// two builds of one commit are byte-identical. The code cache is not part of the build: each
// machine writes its own, in bundle/code-cache/, on a command's first run.

import { build, transform } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_DIR = 'bundle';

/** What every part of the bundle is built with. */
const COMMON = {
  platform: 'node',
  target: 'node20.19',
  // Whitespace and syntax only: names stay, so a stack trace (PROCGUARD_DEBUG=1) still reads.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
};

/**
 * commander loads node:child_process when it loads, for the stand-alone executable subcommands
 * procguard does not have; with it come net and dgram, about 1.5 ms of every command's start.
 * commander gets a stand-in that loads the real module on first use.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents: "let real; const load = () => (real ??= require('node:child_process')); module.exports = { spawn: (...args) => load().spawn(...args) };",
      loader: 'js',
    }));
  },
};

/**
 * Builds into outdir (relative to the repository, or absolute); returns esbuild's result with
 * its metafile (the chunk graph, paths relative to the repository) and the outdir.
 * `entryPoints` adds entries beside procguard.js (the benchmark's daemon), built alike: each
 * is NAME.js, a loader that runs the chunk holding that entry's code.
 */
export async function bundle({ outdir = BUNDLE_DIR, entryPoints = {} } = {}) {
  const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  const out = resolve(root, outdir);
  await rm(out, { recursive: true, force: true });
  const entries = { procguard: 'src/cli/main.ts', ...entryPoints };
  const result = await build({
    ...COMMON,
    absWorkingDir: root,
    entryPoints: entries,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    entryNames: 'chunks/[name]-[hash]',
    chunkNames: 'chunks/[name]-[hash]',
    define: { PROCGUARD_VERSION: JSON.stringify(version) },
    metafile: true,
    write: false,
    plugins: [lazyChildProcessForCommander],
  });
  for (const file of result.outputFiles) {
    // `import` and `export` become `require` and `module.exports`; a dynamic `import()` of
    // another chunk becomes a promise of its `require`, so it still runs only when reached.
    const chunk = await transform(file.text, { ...COMMON, format: 'cjs', supported: { 'dynamic-import': false }, sourcefile: relative(out, file.path) });
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, chunk.code);
  }
  for (const [name, source] of Object.entries(entries)) {
    const [chunk] = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint === source) ?? [];
    if (!chunk) throw new Error(`esbuild wrote no chunk for the entry ${source}`);
    await build({
      ...COMMON,
      absWorkingDir: root,
      stdin: {
        contents: [`import { launch } from './src/cli/launch.ts';`, `launch(__dirname, ${JSON.stringify(relative(out, resolve(root, chunk)))});`].join('\n'),
        resolveDir: root,
        sourcefile: `${name}.js`,
        loader: 'ts',
      },
      outfile: resolve(out, `${name}.js`),
      bundle: true,
      format: 'cjs',
    });
  }
  // The entries are CommonJS scripts: node starts one without its ES module loader, which a
  // command would otherwise spend milliseconds setting up for a single file.
  await writeFile(resolve(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  return { ...result, outdir: out };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await bundle();
  const outputs = Object.entries(result.metafile.outputs);
  const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
  console.log(`wrote ${BUNDLE_DIR}/procguard.js and ${outputs.length} chunks, ${(bytes / 1024).toFixed(0)} KiB`);
}
