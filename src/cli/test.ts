// `procguard test [FILES…]`: runs policy tests (*.test.yaml), given as files or directories
// (default: the current directory), and prints each test and a readable diff of what failed.
// Exit: 0 all pass, 1 a test failed, 2 a test file or its policies are invalid.

import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import pc from 'picocolors';
import { formatDiagnostic } from '../policy/diagnostics.js';
import { describeIoError } from '../policy/load.js';
import { runPolicyTestFile } from '../testing/run-policy-tests.js';
import { CliFailure } from './context.js';
import { checkFormat } from './report-formats.js';
import { testReport } from './test-report.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';

const TEST_FILE = /\.test\.ya?ml$/;

export const TEST_FORMATS = ['text', 'json', 'github', 'junit', 'markdown'] as const;

export async function runTest(paths: string[], io: CliIo, options: { format?: string } = {}): Promise<ExitCode> {
  const format = checkFormat('test', options.format ?? 'text', TEST_FORMATS);
  const c = pc.createColors(io.color === true);
  const files: string[] = [];
  for (const path of paths.length > 0 ? paths : ['.']) files.push(...(await findTestFiles(resolve(io.cwd, path), path)));
  if (files.length === 0) throw new CliFailure(`no policy tests (*.test.yaml) in ${paths.length > 0 ? paths.join(', ') : 'the current directory'}`, ExitCode.INVALID);
  if (format !== 'text') {
    const results = [];
    for (const file of files) results.push(await runPolicyTestFile(relative(io.cwd, file) || file));
    io.stdout(testReport(format, results, io.cwd));
    const invalidFiles = results.some((r) => r.diagnostics.some((d) => d.severity === 'error'));
    if (invalidFiles) return ExitCode.INVALID;
    return results.some((r) => r.tests.some((x) => x.failures.length > 0)) ? ExitCode.ACTIONS_PLANNED : ExitCode.OK;
  }

  let passed = 0;
  let failed = 0;
  let invalid = false;
  for (const file of files) {
    const shown = relative(io.cwd, file) || file;
    const result = await runPolicyTestFile(shown);
    io.stdout(`${shown}\n`);
    for (const d of result.diagnostics) io.stdout(`  ${formatDiagnostic(d)}\n`);
    if (result.diagnostics.some((d) => d.severity === 'error')) invalid = true;
    for (const test of result.tests) {
      if (test.failures.length === 0) {
        passed += 1;
        io.stdout(`  ${c.green('✓')} ${test.name}\n`);
        continue;
      }
      failed += 1;
      io.stdout(`  ${c.red('✗')} ${test.name}\n`);
      for (const failure of test.failures)
        io.stdout(
          `${failure
            .split('\n')
            .map((line) => `      ${line}`)
            .join('\n')}\n`,
        );
    }
  }
  io.stdout(`\n${passed} passed, ${failed} failed${invalid ? ', invalid test files' : ''}\n`);
  if (invalid) return ExitCode.INVALID;
  return failed > 0 ? ExitCode.ACTIONS_PLANNED : ExitCode.OK;
}

async function findTestFiles(path: string, shown: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new CliFailure(`${shown}: ${describeIoError(error)}`, ExitCode.INVALID);
  }
  if (!info.isDirectory()) return [path];
  const found: string[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const child = join(path, entry.name);
    if (entry.isDirectory()) found.push(...(await findTestFiles(child, child)));
    else if (TEST_FILE.test(entry.name)) found.push(child);
  }
  return found;
}
