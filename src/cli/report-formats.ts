// What CI systems read, written for validate, test, plan and diff (--format): GitHub workflow
// commands (annotations on the lines of a pull request), JUnit XML (GitLab, Jenkins), SARIF
// 2.1.0 (code scanning) and Markdown (a pull-request comment).

import { VERSION as version } from './version.js';
import { relative, sep } from 'node:path';
import type { Diagnostic } from '../policy/diagnostics.js';
import { ExitCode } from '../shared/exit-codes.js';
import { CliFailure } from './context.js';

export const FORMATS = ['text', 'json', 'github', 'junit', 'sarif', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

/** The format asked for, when the verb writes it; otherwise a usage error naming those it does. */
export function checkFormat<F extends Format>(verb: string, format: string, supported: readonly F[]): F {
  if ((supported as readonly string[]).includes(format)) return format as F;
  const known = (FORMATS as readonly string[]).includes(format) ? `${verb} does not write ${format}` : `unknown format "${format}"`;
  throw new CliFailure(`${known}: use one of ${supported.join(', ')}`, ExitCode.INVALID);
}

// GitHub workflow commands: https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions
// escaped as @actions/core escapes them: %, CR and LF in the message; also : and , in properties.

export function githubEscapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function githubEscapeProperty(text: string): string {
  return githubEscapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export interface GithubProperties {
  file?: string;
  line?: number;
  col?: number;
  title?: string;
}

export function githubCommandLine(command: 'error' | 'warning' | 'notice', properties: GithubProperties, message: string): string {
  const props = Object.entries(properties)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${githubEscapeProperty(String(value))}`)
    .join(',');
  return `::${command}${props ? ` ${props}` : ''}::${githubEscapeData(message)}`;
}

/** Paths relative to the working directory (the repository's root in CI), with forward slashes. */
export function repositoryPath(path: string, cwd: string): string {
  if (path.startsWith('<')) return path; // <stdin>
  const rel = relative(cwd, path);
  const shown = rel === '' || rel.startsWith('..') ? path : rel;
  return shown.split(sep).join('/');
}

export function diagnosticsGithub(diagnostics: readonly Diagnostic[], cwd: string): string {
  return diagnostics.map((d) => `${githubCommandLine(d.severity, { file: repositoryPath(d.file, cwd), line: d.line, col: d.column, title: `procguard ${d.code}` }, d.message)}\n`).join('');
}

// JUnit XML as Jenkins, GitLab and the junit-xml schemas read it.

export interface TestCase {
  name: string;
  classname: string;
  file?: string;
  line?: number;
  failure?: string;
  error?: string;
}

export interface TestSuite {
  name: string;
  cases: TestCase[];
}

/** XML 1.0 forbids most control characters even escaped: they are shown as \uXXXX. */
export function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function junitReport(name: string, suites: readonly TestSuite[]): string {
  const count = (cases: readonly TestCase[], key: 'failure' | 'error'): number => cases.filter((c) => c[key] !== undefined).length;
  const all = suites.flatMap((s) => s.cases);
  const out = [`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites name="${xmlText(name)}" tests="${all.length}" failures="${count(all, 'failure')}" errors="${count(all, 'error')}">`];
  for (const suite of suites) {
    out.push(`  <testsuite name="${xmlText(suite.name)}" tests="${suite.cases.length}" failures="${count(suite.cases, 'failure')}" errors="${count(suite.cases, 'error')}" skipped="0">`);
    for (const c of suite.cases) {
      const attributes = [`name="${xmlText(c.name)}"`, `classname="${xmlText(c.classname)}"`];
      if (c.file !== undefined) attributes.push(`file="${xmlText(c.file)}"`);
      if (c.line !== undefined) attributes.push(`line="${c.line}"`);
      if (c.failure === undefined && c.error === undefined) {
        out.push(`    <testcase ${attributes.join(' ')}/>`);
        continue;
      }
      out.push(`    <testcase ${attributes.join(' ')}>`);
      if (c.failure !== undefined) out.push(`      <failure message="${xmlText(firstLine(c.failure))}" type="failure">${xmlText(c.failure)}</failure>`);
      if (c.error !== undefined) out.push(`      <error message="${xmlText(firstLine(c.error))}" type="error">${xmlText(c.error)}</error>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!;
}

/** validate as JUnit: one suite per file, one case per diagnostic (errors fail, warnings pass with their text), one passing case for a clean file. */
export function diagnosticsJunit(diagnostics: readonly Diagnostic[], files: readonly string[], cwd: string): string {
  const names = [...new Set([...files, ...diagnostics.map((d) => d.file)])];
  const suites = names.map((file): TestSuite => {
    const shown = repositoryPath(file, cwd);
    const own = diagnostics.filter((d) => d.file === file && d.severity === 'error');
    return {
      name: shown,
      cases:
        own.length === 0
          ? [{ name: 'valid', classname: 'procguard validate', file: shown }]
          : own.map((d) => ({ name: `${shown}:${d.line}:${d.column} ${d.code}`, classname: 'procguard validate', file: shown, line: d.line, failure: d.message })),
    };
  });
  return junitReport('procguard validate', suites);
}

// SARIF 2.1.0: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html

export function diagnosticsSarif(diagnostics: readonly Diagnostic[], cwd: string): object {
  const codes = [...new Set(diagnostics.map((d) => d.code))].sort();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'procguard',
            version,
            rules: codes.map((id) => ({ id, name: id, shortDescription: { text: `procguard validate: ${id}` } })),
          },
        },
        results: diagnostics.map((d) => ({
          ruleId: d.code,
          ruleIndex: codes.indexOf(d.code),
          level: d.severity,
          message: { text: d.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(repositoryPath(d.file, cwd)) },
                region: { startLine: d.line, startColumn: d.column },
              },
            },
          ],
        })),
      },
    ],
  };
}

// Markdown for a pull-request comment: table cells on one line, characters that would make markup escaped.

export function markdownCell(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_{}[\]<>|#]/g, (c) => `\\${c}`)
    .replace(/[\u0000-\u001f\u007f]/g, ' ');
}

export function diagnosticsMarkdown(diagnostics: readonly Diagnostic[], cwd: string, summary: string): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const out = [`### procguard validate: ${errors > 0 ? ':x:' : ':white_check_mark:'} ${markdownCell(summary)}`];
  if (diagnostics.length > 0) {
    out.push('', '| where | severity | problem |', '|---|---|---|');
    for (const d of diagnostics) out.push(`| \`${repositoryPath(d.file, cwd).replace(/`/g, "'")}:${d.line}:${d.column}\` | ${d.severity} | ${markdownCell(d.message)} |`);
  }
  return `${out.join('\n')}\n`;
}
