// Runs policy test files (*.test.yaml): loads their policies (files or inline), evaluates each
// cycle's snapshot with the state carried over, and checks the plan by subset.

import { dirname, join, resolve } from 'node:path';
import { isScalar, isSeq } from 'yaml';
import { localTimeZone } from '../host/time-zone.js';
import { evaluate } from '../engine/evaluate.js';
import { describeTarget } from '../data/host-index.js';
import { emptyState, type EngineState, type Plan, type Snapshot } from '../data/types.js';
import { checkData, parseDataFile } from '../policy/data-file.js';
import { diagnostic, START_OF_FILE, type Diagnostic } from '../policy/diagnostics.js';
import { readTextFile } from '../shared/bounded-read.js';
import { loadPolicySet } from '../policy/policy-set.js';
import { checkSnapshotData, parseSnapshotFile } from '../policy/snapshot-file.js';
import type { PolicySet } from '../policy/model.js';
import { policyTest as policyTestValidator } from '../policy/policy-test-validator.generated.js';
import { state as stateValidator } from '../policy/state-validator.generated.js';
import { locate, type ParsedFile } from '../policy/yaml-source.js';
import { differences, matchesSubset, show } from './subset.js';

/** Test files and the snapshots they name; far above any real fixture. */
const MAX_TEST_FILE_BYTES = 64 * 1024 * 1024;

interface Expectations {
  actions?: Record<string, unknown>[];
  notifications?: Record<string, unknown>[];
  errors?: Record<string, unknown>[];
  warnings?: string[];
}

interface TestFileData {
  policies: Array<string | Record<string, unknown>>;
  tests: Array<{ name: string; state?: unknown; cycles: Array<{ snapshot: string | Record<string, unknown>; expect?: Expectations }> }>;
}

export interface TestResult {
  name: string;
  failures: string[];
  /** Where the test's name is in its file. */
  line?: number;
  column?: number;
}

export interface TestFileResult {
  path: string;
  /** Problems with the test file or its policies: nothing could run. */
  diagnostics: Diagnostic[];
  tests: TestResult[];
}

export async function runPolicyTestFile(path: string): Promise<TestFileResult> {
  const result: TestFileResult = { path, diagnostics: [], tests: [] };
  const text = await readTextFile(path, MAX_TEST_FILE_BYTES, 'test file');
  if (typeof text !== 'string') {
    result.diagnostics.push(diagnostic(path, START_OF_FILE, 'error', 'io', text.message));
    return result;
  }
  const parsed = await parseDataFile<TestFileData>(path, text, policyTestValidator, 'policy test');
  if (!parsed.data || !parsed.file) {
    result.diagnostics.push(...parsed.diagnostics);
    return result;
  }
  const file = parsed.file;
  const data = parsed.data;
  const policySet = await policySetOf(file, text, data, result.diagnostics);
  if (!policySet) return result;

  const base = dirname(path);
  for (const [t, test] of data.tests.entries()) {
    const failures: string[] = [];
    const at = locate(file, ['tests', t, 'name']);
    let state: EngineState = emptyState();
    if (test.state !== undefined) {
      const problems = checkData(file, test.state, ['tests', t, 'state'], stateValidator, 'state');
      if (problems.length > 0) {
        result.diagnostics.push(...problems);
        result.tests.push({ name: test.name, failures: ['its state is invalid (see above)'], line: at.line, column: at.column });
        continue;
      }
      state = test.state as EngineState;
    }
    for (const [c, cycle] of test.cycles.entries()) {
      const snapshot = await snapshotOf(cycle.snapshot, file, ['tests', t, 'cycles', c, 'snapshot'], base, result.diagnostics);
      if (!snapshot) {
        failures.push(`cycle ${c + 1}: its snapshot is invalid or unreadable (see above)`);
        break;
      }
      const evaluation = evaluate(policySet, snapshot, state, snapshot.time, { timeZone: localTimeZone() });
      state = evaluation.state;
      failures.push(...checkExpectations(cycle.expect ?? {}, evaluation.plan).map((f) => `cycle ${c + 1}: ${f}`));
    }
    result.tests.push({ name: test.name, failures, line: at.line, column: at.column });
  }
  return result;
}

/** Policy files named by the test (relative to it) plus its inline sections, validated as one configuration. */
async function policySetOf(file: ParsedFile, text: string, data: TestFileData, diagnostics: Diagnostic[]): Promise<PolicySet | undefined> {
  const base = dirname(file.path);
  const paths = data.policies.filter((p): p is string => typeof p === 'string').map((p) => resolve(base, p));
  const inline = await inlinePolicyFile(file, text, data);
  const validated = await loadPolicySet(paths, { extraFiles: inline ? [inline] : [] });
  const errors = validated.diagnostics.filter((d) => d.severity === 'error');
  diagnostics.push(...errors);
  return errors.length > 0 ? undefined : validated.policySet;
}

/** The test file seen as a policy file: its settings, supervisors, notifiers and inline policies, at their own lines. */
async function inlinePolicyFile(file: ParsedFile, text: string, data: TestFileData): Promise<ParsedFile | undefined> {
  const hasInline = data.policies.some((p) => typeof p !== 'string');
  const hasSections = ['settings', 'supervisors', 'notifiers'].some((k) => k in data);
  if (!hasInline && !hasSections) return undefined;
  const { editedFile } = await import('../policy/yaml-document.js');
  return editedFile(file.path, text, (document) => {
    document.delete('tests');
    const policies = document.get('policies', true);
    if (isSeq(policies)) policies.items = policies.items.filter((item) => !isScalar(item));
    if (!hasInline) document.delete('policies');
  });
}

async function snapshotOf(value: string | Record<string, unknown>, file: ParsedFile, at: Array<string | number>, base: string, diagnostics: Diagnostic[]): Promise<Snapshot | undefined> {
  if (typeof value !== 'string') {
    const problems = checkSnapshotData(file, value, at);
    diagnostics.push(...problems);
    return problems.length > 0 ? undefined : (value as unknown as Snapshot);
  }
  // Named as the test file is named (relative to where procguard runs), so FILE:LINE:COL opens the right file.
  const shown = join(dirname(file.path), value);
  const text = await readTextFile(resolve(base, value), MAX_TEST_FILE_BYTES, 'snapshot');
  if (typeof text !== 'string') {
    diagnostics.push(diagnostic(file.path, locate(file, at), 'error', 'io', `Cannot read snapshot ${value}: ${text.errno !== undefined ? text.reason : text.message}`));
    return undefined;
  }
  const parsed = await parseSnapshotFile(shown, text);
  diagnostics.push(...parsed.diagnostics);
  return parsed.data;
}

function checkExpectations(expect: Expectations, plan: Plan): string[] {
  const failures: string[] = [];
  const lists: Array<[string, unknown[] | undefined, unknown[], (entry: never) => string]> = [
    ['action', expect.actions, plan.actions, (a: Plan['actions'][number]) => `${a.action} ${describeTarget(a.target)} by ${a.policy}, ${a.status}: ${a.reason}`],
    ['notification', expect.notifications, plan.notifications, (n: Plan['notifications'][number]) => `to ${n.to} by ${n.policy}, ${n.status}: ${n.subject}`],
    ['error', expect.errors, plan.errors, (e: Plan['errors'][number]) => `${e.source}: ${e.message}`],
    ['warning', expect.warnings, plan.warnings ?? [], (w: string) => w],
  ];
  for (const [what, expected, actual, describe] of lists) {
    if (expected === undefined) continue;
    const listing = actual.length === 0 ? `    the plan has no ${what}s` : `    the plan has:\n${actual.map((a) => `      - ${describe(a as never)}`).join('\n')}`;
    if (expected.length === 0 && actual.length > 0) {
      failures.push(`expected no ${what}s\n${listing}`);
      continue;
    }
    for (const entry of expected) {
      if (actual.some((a) => matchesSubset(entry, a))) continue;
      const closest = actual.map((a) => differences(entry, a)).sort((x, y) => x.length - y.length)[0];
      const hint = closest ? `\n    closest ${what} differs in: ${closest.join('; ')}` : '';
      failures.push(`no ${what} matches ${show(entry)}${hint}\n${listing}`);
    }
  }
  return failures;
}
