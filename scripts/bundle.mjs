// `npm run bundle`: procguard as one self-contained ES module bundle in bundle/, the way a
// server runs it (`node bundle/procguard.js`, or /usr/lib/procguard/procguard.js from the
// Debian package). Every dependency is inside it; nothing is resolved from node_modules at
// run time. The verbs, and the heavy libraries they alone use (handlebars, nodemailer,
// prom-client, pino-pretty), are chunks of their own beside the
// entry, loaded by dynamic import when first needed, so a verb loads only what it runs.
// The output depends on the sources only: no absolute path, date or build-machine detail,
// so two builds of one commit are byte-identical.

import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_DIR = 'bundle';

/**
 * Builds into outdir (relative to the repository, or absolute); returns esbuild's result with
 * its metafile and the outdir. `entryPoints` adds entries beside procguard.js (the benchmark's
 * daemon), built with the same settings.
 */
export async function bundle({ outdir = BUNDLE_DIR, entryPoints = {} } = {}) {
  const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  await rm(resolve(root, outdir), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { procguard: 'src/cli/main.ts', ...entryPoints },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    chunkNames: 'chunks/[name]-[hash]',
    // Whitespace and syntax only: names stay, so a stack trace (PROCGUARD_DEBUG=1) still reads.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'eof',
    define: { PROCGUARD_VERSION: JSON.stringify(version) },
    // The CommonJS libraries inside the bundle require node's own modules (fs, events, …);
    // an ES module has no `require`, so each file gets one. Everything else is bundled, so
    // it can only ever resolve node: built-ins.
    banner: { js: "import { createRequire as procguardCreateRequire } from 'node:module';\nconst require = procguardCreateRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  return { ...result, outdir: resolve(root, outdir) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await bundle();
  const outputs = Object.entries(result.metafile.outputs);
  const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
  console.log(`wrote ${BUNDLE_DIR}/procguard.js and ${outputs.length - 1} chunks, ${(bytes / 1024).toFixed(0)} KiB`);
}
