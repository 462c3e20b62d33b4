// --format for CI, each output checked by what consumes it: SARIF against the published SARIF
// 2.1.0 schema, JUnit XML through an XML parser and the structure GitLab and Jenkins read,
// GitHub workflow commands through GitHub's unescaping rules, Markdown tables cell by cell.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import draft04 from 'ajv-draft-04';
import formatsPlugin from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { githubCommandLine, githubEscapeData, githubEscapeProperty, markdownCell } from '../../src/cli/report-formats.js';
import { writeFleet } from '../helpers/fleet.js';
import { runProcguard } from '../helpers/run-cli.js';

/** Both are CommonJS: what they export is their default export's `default`. */
const Ajv04 = draft04.default;
const addFormats = formatsPlugin.default;

const SARIF_SCHEMA = JSON.parse(readFileSync(new URL('../fixtures/sarif/sarif-2.1.0-rtm.5.json', import.meta.url), 'utf8')) as object;

function sarifValidator(): (data: unknown) => string[] {
  const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(SARIF_SCHEMA);
  return (data) => (validate(data) ? [] : (validate.errors ?? []).map((e: { instancePath: string; message?: string }) => `${e.instancePath} ${e.message ?? ''}`));
}

/** A workflow command as the Actions runner reads it (ActionCommand.TryParseV2): properties split at ",", then "=", each unescaped. */
function parseWorkflowCommand(line: string): { command: string; properties: Record<string, string>; message: string } {
  const match = /^::([a-z]+)(?: ([^:]*))?::(.*)$/.exec(line);
  assert.ok(match, `not a workflow command: ${line}`);
  const unescapeData = (s: string): string => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  const unescapeProperty = (s: string): string => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    properties[pair.slice(0, at)] = unescapeProperty(pair.slice(at + 1));
  }
  return { command: match[1]!, properties, message: unescapeData(match[3]!) };
}

interface JunitCase {
  '@_name': string;
  '@_classname': string;
  '@_file'?: string;
  '@_line'?: string;
  failure?: { '@_message': string; '#text'?: string };
  error?: { '@_message': string; '#text'?: string };
}
interface JunitSuite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_errors': string;
  testcase: JunitCase[];
}

/** The XML must parse, and its counts must agree with its test cases, as GitLab's and Jenkins' readers assume. */
function parseJunit(xml: string): { suites: JunitSuite[]; tests: number; failures: number; errors: number } {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed XML');
  const parsed = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'testsuite' || name === 'testcase', processEntities: true }).parse(xml) as {
    testsuites: { '@_tests': string; '@_failures': string; '@_errors': string; testsuite?: JunitSuite[] };
  };
  const root = parsed.testsuites;
  assert.ok(root, 'a <testsuites> root');
  const suites = root.testsuite ?? [];
  for (const suite of suites) {
    const cases = suite.testcase ?? [];
    assert.equal(Number(suite['@_tests']), cases.length, `tests of ${suite['@_name']}`);
    assert.equal(Number(suite['@_failures']), cases.filter((c) => c.failure).length, `failures of ${suite['@_name']}`);
    assert.equal(Number(suite['@_errors']), cases.filter((c) => c.error).length, `errors of ${suite['@_name']}`);
    for (const c of cases) assert.ok(c['@_name'] && c['@_classname'], 'every testcase has a name and a classname');
  }
  const all = suites.flatMap((s) => s.testcase ?? []);
  assert.equal(Number(root['@_tests']), all.length);
  return { suites, tests: all.length, failures: Number(root['@_failures']), errors: Number(root['@_errors']) };
}

/** A Markdown table row's cells, split at pipes that are not escaped. */
function markdownCells(row: string): string[] {
  return row
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

// A directory whose name needs escaping in a workflow command property: a comma, a colon and a percent sign.
const ODD_DIR = 'team,a:b%c';
const BROKEN = `policies:
  - name: web-memory
    kind: memory
    match: { program: "web:*" }
    max_rss: 200 megabytes
  - { name: x, kind: oom, match: { name: sshd }, oom_score_adj: -1000 }
`;

describe('--format: output that CI reads', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'procguard-formats-'));
    mkdirSync(join(dir, ODD_DIR));
    writeFileSync(join(dir, ODD_DIR, 'web.yaml'), BROKEN);
    writeFleet(join(dir, 'fleet'));
    mkdirSync(join(dir, 'tests'));
    writeFileSync(
      join(dir, 'tests', 'web.test.yaml'),
      `policies: [../fleet/policies]
tests:
  - name: a leaking worker on web1 is restarted
    cycles:
      - snapshot: ../fleet/snapshots/web1.json
        expect: { actions: [ { policy: web-memory, action: restart, target: { namespec: "web:w2" } } ] }
  - name: "nothing happens on db1 <&> (this one fails)"
    cycles:
      - snapshot: ../fleet/snapshots/web1.json
        expect: { actions: [] }
`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('github', () => {
    it('escapes %, CR and LF in the message, and also : and , in properties, as @actions/core does', () => {
      assert.equal(githubEscapeData('50% done\r\nnext: a, b'), '50%25 done%0D%0Anext: a, b');
      assert.equal(githubEscapeProperty('a,b:c%d\ne'), 'a%2Cb%3Ac%25d%0Ae');
      const line = githubCommandLine('error', { file: 'x,y:z.yaml', line: 3, col: 7, title: 'procguard: t' }, 'bad\nvalue: 100%');
      assert.equal(line, '::error file=x%2Cy%3Az.yaml,line=3,col=7,title=procguard%3A t::bad%0Avalue: 100%25');
      assert.deepEqual(parseWorkflowCommand(line), { command: 'error', properties: { file: 'x,y:z.yaml', line: '3', col: '7', title: 'procguard: t' }, message: 'bad\nvalue: 100%' });
    });

    it('validate: one workflow command per diagnostic on its file, line and column, read back as written', async () => {
      const run = await runProcguard(['validate', '--format', 'github', ODD_DIR], { cwd: dir });
      assert.equal(run.code, 2);
      const commands = run.stdout
        .split('\n')
        .filter((l) => l.startsWith('::'))
        .map(parseWorkflowCommand);
      const text = (await runProcguard(['validate', ODD_DIR], { cwd: dir })).stdout.split('\n').filter((l) => l.startsWith(`${ODD_DIR}/`));
      assert.equal(commands.length, text.length);
      assert.deepEqual(
        commands.map((c) => `${c.properties.file}:${c.properties.line}:${c.properties.col}: ${c.command}: ${c.message}`),
        text,
        'the same diagnostics as the text format, at the same places',
      );
      assert.ok(commands.some((c) => c.command === 'error' && c.properties.file === `${ODD_DIR}/web.yaml` && c.properties.line === '5'));
      assert.ok(commands.every((c) => c.properties.title?.startsWith('procguard ')));
    });

    it('test: an error annotation on each failing test, at its name', async () => {
      const run = await runProcguard(['test', '--format', 'github', 'tests'], { cwd: dir });
      assert.equal(run.code, 1);
      const commands = run.stdout
        .split('\n')
        .filter((l) => l.startsWith('::'))
        .map(parseWorkflowCommand);
      assert.deepEqual(
        commands.map((c) => [c.command, c.properties.file, c.properties.line, c.properties.title]),
        [['error', 'tests/web.test.yaml', '7', 'procguard test: nothing happens on db1 <&> (this one fails)']],
      );
      assert.match(commands[0]!.message, /^cycle 1: /);
      assert.match(run.stdout, /^1 passed, 1 failed$/m);
    });
  });

  describe('sarif', () => {
    it('validate: valid against the SARIF 2.1.0 schema, one result per diagnostic at its region', async () => {
      const run = await runProcguard(['validate', '--format', 'sarif', ODD_DIR], { cwd: dir });
      assert.equal(run.code, 2);
      const log = JSON.parse(run.stdout) as { version: string; runs: Array<{ tool: { driver: { name: string; rules: Array<{ id: string }> } }; results: Array<Record<string, any>> }> };
      assert.deepEqual(sarifValidator()(log), []);
      assert.equal(log.version, '2.1.0');
      const [sarifRun] = log.runs;
      assert.equal(sarifRun!.tool.driver.name, 'procguard');
      const json = JSON.parse((await runProcguard(['validate', '--json', ODD_DIR], { cwd: dir })).stdout) as Array<{ line: number; column: number; code: string; severity: string; message: string }>;
      assert.deepEqual(
        sarifRun!.results.map((r) => [
          r.ruleId,
          r.level,
          r.message.text,
          decodeURI(r.locations[0].physicalLocation.artifactLocation.uri),
          r.locations[0].physicalLocation.region.startLine,
          r.locations[0].physicalLocation.region.startColumn,
        ]),
        json.map((d) => [d.code, d.severity, d.message, `${ODD_DIR}/web.yaml`, d.line, d.column]),
      );
      for (const r of sarifRun!.results) assert.equal(sarifRun!.tool.driver.rules[r.ruleIndex]!.id, r.ruleId);
    });

    it('validate: a valid set is a schema-valid log of warnings sarifRun', async () => {
      const run = await runProcguard(['validate', '--format', 'sarif', 'fleet/policies'], { cwd: dir });
      assert.equal(run.code, 0);
      const log = JSON.parse(run.stdout) as { runs: Array<{ results: Array<{ level: string }> }> };
      assert.deepEqual(sarifValidator()(log), []);
      assert.deepEqual([...new Set(log.runs[0]!.results.map((r) => r.level))], ['warning']);
    });

    it('the schema check itself refuses a log that breaks it', () => {
      assert.notDeepEqual(sarifValidator()({ version: '2.1.0', runs: [{ tool: { driver: {} } }] }), []);
    });
  });

  describe('junit', () => {
    it('validate: a suite per file, a failing case per error', async () => {
      const run = await runProcguard(['validate', '--format', 'junit', ODD_DIR, 'fleet/policies'], { cwd: dir });
      const junit = parseJunit(run.stdout);
      assert.deepEqual(
        junit.suites.map((s) => [s['@_name'], s.testcase.map((c) => (c.failure ? `fail ${c['@_line']}` : c['@_name']))]),
        [
          [`${ODD_DIR}/web.yaml`, ['fail 5']],
          ['fleet/policies/fleet.yaml', ['valid']],
        ],
      );
      assert.match(junit.suites[0]!.testcase[0]!.failure!['#text']!, /^Invalid size "200 megabytes" for "max_rss"/);
    });

    it('test: a suite per test file, a failure per failing test, names with <&> intact', async () => {
      const junit = parseJunit((await runProcguard(['test', '--format', 'junit', 'tests'], { cwd: dir })).stdout);
      assert.equal(junit.tests, 2);
      assert.equal(junit.failures, 1);
      assert.deepEqual(
        junit.suites[0]!.testcase.map((c) => [c['@_name'], c.failure !== undefined]),
        [
          ['a leaking worker on web1 is restarted', false],
          ['nothing happens on db1 <&> (this one fails)', true],
        ],
      );
    });

    it('plan: a suite per host, a failing case per policy that would act there', async () => {
      const junit = parseJunit((await runProcguard(['plan', '-c', 'fleet/policies', '--snapshots', 'fleet/snapshots', '--format', 'junit'], { cwd: dir })).stdout);
      assert.deepEqual(
        junit.suites.map((s) => [s['@_name'], s.testcase.filter((c) => c.failure).map((c) => c['@_name'])]),
        [
          ['db1', []],
          ['web1', ['web-memory']],
          ['web7', []],
        ],
      );
    });

    it('control characters that XML cannot carry are shown escaped, never written raw', async () => {
      const { junitReport } = await import('../../src/cli/report-formats.js');
      const xml = junitReport('x', [{ name: 's', cases: [{ name: 'bell\u0007 and ]]> and "q"', classname: 'c', failure: 'a\u0000b' }] }]);
      const junit = parseJunit(xml);
      assert.equal(junit.suites[0]!.testcase[0]!['@_name'], 'bell\\u0007 and ]]> and "q"');
    });
  });

  describe('markdown', () => {
    it('cells never break the table: pipes, newlines and markup are escaped', () => {
      const cell = markdownCell('a | b\nc *d* `e` <script>');
      assert.equal(markdownCells(`| ${cell} | x |`).length, 2);
      assert.doesNotMatch(cell, /\n|<script>/);
    });

    it('validate, test and plan: tables with the same number of cells in every row', async () => {
      const outputs = [
        (await runProcguard(['validate', '--format', 'markdown', ODD_DIR], { cwd: dir })).stdout,
        (await runProcguard(['test', '--format', 'markdown', 'tests'], { cwd: dir })).stdout,
        (await runProcguard(['plan', '-c', 'fleet/policies', '--snapshots', 'fleet/snapshots', '--format', 'markdown'], { cwd: dir })).stdout,
      ];
      for (const output of outputs) {
        const rows = output.split('\n').filter((l) => l.startsWith('|'));
        assert.ok(rows.length >= 3, output);
        const width = markdownCells(rows[0]!).length;
        for (const row of rows) assert.equal(markdownCells(row).length, width, row);
      }
      assert.match(outputs[1]!, /^### procguard test: :x: 1 passed, 1 failed$/m);
    });
  });

  it('json: validate --format json is validate --json; test prints each file with its tests', async () => {
    const a = await runProcguard(['validate', '--format', 'json', ODD_DIR], { cwd: dir });
    const b = await runProcguard(['validate', '--json', ODD_DIR], { cwd: dir });
    assert.equal(a.stdout, b.stdout);
    const results = JSON.parse((await runProcguard(['test', '--format', 'json', 'tests'], { cwd: dir })).stdout) as Array<{ path: string; tests: Array<{ name: string; failures: string[] }> }>;
    assert.deepEqual(
      results.map((r) => [r.path, r.tests.map((t) => t.failures.length)]),
      [['tests/web.test.yaml', [0, 1]]],
    );
  });

  it('a format a verb does not write, or an unknown one, is a usage error', async () => {
    const table: Array<[string[], RegExp]> = [
      [['test', '--format', 'sarif', 'tests'], /test does not write sarif: use one of text, json, github, junit, markdown/],
      [['validate', '--format', 'yaml', ODD_DIR], /unknown format "yaml": use one of text, json, github, junit, sarif, markdown/],
    ];
    for (const [args, message] of table) {
      const run = await runProcguard(args, { cwd: dir });
      assert.equal(run.code, 2);
      assert.match(run.stderr, message);
    }
  });
});
