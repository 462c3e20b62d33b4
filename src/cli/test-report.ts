// procguard test's results as CI reads them: JSON, GitHub annotations on each failing test's
// line, JUnit XML (one suite per test file) and Markdown.

import type { TestFileResult } from '../testing/run-policy-tests.js';
import { jsonText } from '../shared/text.js';
import { diagnosticsGithub, githubCommandLine, junitReport, markdownCell, repositoryPath, type TestSuite } from './report-formats.js';

export function testReport(format: 'json' | 'github' | 'junit' | 'markdown', results: readonly TestFileResult[], cwd: string): string {
  if (format === 'json') return `${jsonText(results)}\n`;
  if (format === 'github') return githubReport(results, cwd);
  if (format === 'junit') return junitReport('procguard test', suites(results, cwd));
  return markdownReport(results, cwd);
}

function counts(results: readonly TestFileResult[]): { passed: number; failed: number; invalid: number } {
  const tests = results.flatMap((r) => r.tests);
  return {
    passed: tests.filter((t) => t.failures.length === 0).length,
    failed: tests.filter((t) => t.failures.length > 0).length,
    invalid: results.filter((r) => r.diagnostics.some((d) => d.severity === 'error')).length,
  };
}

function githubReport(results: readonly TestFileResult[], cwd: string): string {
  const out: string[] = [];
  for (const result of results) {
    out.push(diagnosticsGithub(result.diagnostics, cwd).trimEnd());
    for (const test of result.tests.filter((t) => t.failures.length > 0)) {
      const where = { file: repositoryPath(result.path, cwd), ...(test.line !== undefined ? { line: test.line, col: test.column } : {}), title: `procguard test: ${test.name}` };
      out.push(githubCommandLine('error', where, test.failures.join('\n')));
    }
  }
  const { passed, failed, invalid } = counts(results);
  out.push(`${passed} passed, ${failed} failed${invalid > 0 ? ', invalid test files' : ''}`);
  return `${out.filter((line) => line !== '').join('\n')}\n`;
}

function suites(results: readonly TestFileResult[], cwd: string): TestSuite[] {
  return results.map((result) => {
    const file = repositoryPath(result.path, cwd);
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    return {
      name: file,
      cases: [
        ...(errors.length > 0 ? [{ name: 'test file', classname: file, file, error: errors.map((d) => `${d.line}:${d.column}: ${d.message}`).join('\n') }] : []),
        ...result.tests.map((test) => ({
          name: test.name,
          classname: file,
          file,
          ...(test.line !== undefined ? { line: test.line } : {}),
          ...(test.failures.length > 0 ? { failure: test.failures.join('\n') } : {}),
        })),
      ],
    };
  });
}

function markdownReport(results: readonly TestFileResult[], cwd: string): string {
  const { passed, failed, invalid } = counts(results);
  const mark = failed + invalid > 0 ? ':x:' : ':white_check_mark:';
  const out = [`### procguard test: ${mark} ${passed} passed, ${failed} failed${invalid > 0 ? `, ${invalid} invalid test files` : ''}`, '', '| file | test | result |', '|---|---|---|'];
  for (const result of results) {
    const file = markdownCell(repositoryPath(result.path, cwd));
    for (const d of result.diagnostics.filter((x) => x.severity === 'error')) out.push(`| ${file} | line ${d.line} | :x: ${markdownCell(d.message)} |`);
    for (const test of result.tests) out.push(`| ${file} | ${markdownCell(test.name)} | ${test.failures.length === 0 ? 'passed' : `:x: ${markdownCell(test.failures.join('; '))}`} |`);
  }
  return `${out.join('\n')}\n`;
}
