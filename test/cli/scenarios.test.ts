// CLI behaviour as scenario folders: test/scenarios/NAME/ holds `args` (one argument per
// line), the files the command reads, `stdout` (expected exactly), `exit-code`, and
// optionally `stderr` (expected exactly).
import assert from 'node:assert/strict';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcguard, STACK_TRACE } from '../helpers/run-cli.js';

const SCENARIOS = fileURLToPath(new URL('../scenarios/', import.meta.url));

/** Checkouts made with a permissive umask must not trip the root-only permission check. */
async function tightenModes(directory: string): Promise<void> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) await tightenModes(path);
    await chmod(path, (await stat(path)).mode & ~0o022);
  }
  await chmod(directory, (await stat(directory)).mode & ~0o022);
}

const names = (await readdir(SCENARIOS)).sort();

describe('CLI scenarios', function () {
  this.timeout(30000);
  for (const name of names) {
    it(name, async () => {
      const dir = join(SCENARIOS, name);
      await tightenModes(dir);
      const args = (await readFile(join(dir, 'args'), 'utf8')).split('\n').filter((line) => line !== '');
      const expectedStdout = await readFile(join(dir, 'stdout'), 'utf8');
      const expectedCode = Number((await readFile(join(dir, 'exit-code'), 'utf8')).trim());
      const run = await runProcguard(args, { cwd: dir });
      assert.equal(run.stdout, expectedStdout);
      const expectedStderr = await readFile(join(dir, 'stderr'), 'utf8').catch(() => undefined);
      if (expectedStderr !== undefined) assert.equal(run.stderr, expectedStderr);
      assert.equal(run.code, expectedCode, run.stderr);
      assert.doesNotMatch(run.stdout + run.stderr, STACK_TRACE);
    });
  }
});
