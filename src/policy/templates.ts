// Mail subjects and bodies are handlebars templates. They are checked when the policy
// files are validated, against the allow-list below, which is also their documentation.

import { errorText } from '../shared/errors.js';
import { handlebars, loadHandlebars } from '../shared/handlebars.js';
import { POLICY_KINDS } from './kinds/index.js';
import { isRecord } from './walk.js';
import type { ParsedFile } from './yaml-source.js';

/** Every field a notification template may use, with what it holds. */
export const TEMPLATE_FIELDS: Readonly<Record<string, string>> = {
  host: 'the host name',
  name: 'settings.name (the tag memmon sets with -n), empty when unset',
  policy: 'the policy name',
  kind: `the policy kind: ${POLICY_KINDS.slice(0, -1).join(', ')} or ${POLICY_KINDS.at(-1) ?? ''}`,
  mode: 'enforce or audit',
  action: 'restart, stop, kill, signal, pause, resume or set_oom_score_adj',
  status: 'planned, done, failed or skipped',
  reason: 'why, with the observed value and the limit, e.g. "rss 250.0 MiB > 200.0 MiB (cycle 2 of 2)"',
  'target.pid': 'the process id',
  'target.name': 'the process name (comm)',
  'target.namespec': 'the supervisord namespec, group:name',
  'target.cmdline': 'the full command line',
  'target.user': 'the user the process runs as',
  'target.supervisor': 'the name of the supervisor that runs it',
  rss: 'the resident set size observed, in bytes',
  limit: 'the limit of the policy (bytes for memory, seconds for runtime, load for load)',
  'measure.value': 'the figure measured: bytes of memory, seconds of uptime, the load average or the current oom_score_adj',
  'measure.limit': 'what it was compared with: the limit, threshold or wanted value',
  'measure.unit': 'bytes, seconds, load or oom_score_adj',
  result: 'a carried-out action: what was done (done), or what went wrong (failed)',
  uptime: 'the seconds since the process started',
  time: 'when it happened, as asctime (Sat Nov 21 13:36:09 2026)',
};

/** Helpers a template may call: handlebars' own, and eq (are its two arguments the same?). */
const BUILT_IN_HELPERS = new Set(['if', 'unless', 'each', 'with', 'lookup', 'log', 'eq']);
/** Helpers whose block runs in another context, where field names are relative. */
const CONTEXT_CHANGING_HELPERS = new Set(['each', 'with']);

export interface TemplateProblem {
  severity: 'error' | 'warning';
  /** 1-based line inside the template. */
  line: number;
  column: number;
  message: string;
}

/** Keys of a mail notifier that hold templates. */
const TEMPLATE_KEYS = ['subject', 'body', 'body_file'];

/**
 * Loads handlebars when a notifier of these files has a template (subject, body or
 * body_file), before anything checks or renders one: a policy set without templates never
 * loads it. Loading policy files does this; code that builds files of its own calls it.
 */
export async function prepareTemplates(files: readonly ParsedFile[]): Promise<void> {
  const hasTemplate = (file: ParsedFile): boolean => {
    const notifiers = isRecord(file.data) ? file.data.notifiers : undefined;
    if (!isRecord(notifiers)) return false;
    return Object.values(notifiers).some((notifier) => isRecord(notifier) && isRecord(notifier.mail) && TEMPLATE_KEYS.some((key) => key in (notifier.mail as object)));
  };
  if (files.some(hasTemplate)) await loadHandlebars();
}

export function checkTemplate(source: string): TemplateProblem[] {
  let program: hbs.AST.Program;
  try {
    program = handlebars().parse(source);
  } catch (error) {
    return [parseProblem(error)];
  }
  const problems: TemplateProblem[] = [];
  walkProgram(program, problems, true);
  return problems;
}

function walkProgram(program: hbs.AST.Program | undefined, problems: TemplateProblem[], checkFields: boolean): void {
  for (const statement of program?.body ?? []) walkStatement(statement, problems, checkFields);
}

function walkStatement(node: hbs.AST.Statement, problems: TemplateProblem[], checkFields: boolean): void {
  switch (node.type) {
    case 'MustacheStatement':
    case 'BlockStatement': {
      const call = node as hbs.AST.MustacheStatement | hbs.AST.BlockStatement;
      walkCall(call, problems, checkFields);
      if (node.type === 'BlockStatement') {
        const block = node as hbs.AST.BlockStatement;
        const helper = pathName(block.path);
        const inner = checkFields && !CONTEXT_CHANGING_HELPERS.has(helper ?? '');
        walkProgram(block.program, problems, inner);
        walkProgram(block.inverse, problems, checkFields);
      }
      return;
    }
    case 'PartialStatement':
    case 'PartialBlockStatement':
      problems.push(at(node, 'error', 'partials ({{> name}}) are not available in procguard templates'));
      return;
    default:
      return;
  }
}

function walkCall(call: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression, problems: TemplateProblem[], checkFields: boolean): void {
  const name = pathName(call.path);
  const hasArguments = call.params.length > 0 || (call.hash?.pairs.length ?? 0) > 0;
  if (name !== undefined && BUILT_IN_HELPERS.has(name)) {
    // the helper's arguments are fields
  } else if (hasArguments) {
    problems.push(at(call, 'warning', `unknown helper "${name ?? '?'}"; available: ${[...BUILT_IN_HELPERS].join(', ')}`));
  } else {
    checkExpression(call.path, problems, checkFields);
  }
  for (const param of call.params) checkExpression(param, problems, checkFields);
  for (const pair of call.hash?.pairs ?? []) checkExpression(pair.value, problems, checkFields);
}

function checkExpression(node: hbs.AST.Expression, problems: TemplateProblem[], checkFields: boolean): void {
  if (node.type === 'SubExpression') {
    walkCall(node as hbs.AST.SubExpression, problems, checkFields);
    return;
  }
  if (node.type !== 'PathExpression') return;
  const path = node as hbs.AST.PathExpression;
  if (path.depth > 0) return;
  let parts = path.parts;
  if (path.data) {
    if (parts[0] !== 'root') return; // @index, @key, @first…
    parts = parts.slice(1); // @root.x names a field wherever it stands
  } else if (!checkFields) {
    return;
  }
  const field = parts.join('.');
  if (field === '' || isKnownField(field)) return;
  problems.push(at(path, 'warning', `unknown field "${field}"${fieldSuggestion(field)}; fields: ${Object.keys(TEMPLATE_FIELDS).join(', ')}`));
}

function isKnownField(field: string): boolean {
  return Object.hasOwn(TEMPLATE_FIELDS, field) || Object.keys(TEMPLATE_FIELDS).some((known) => known.startsWith(`${field}.`));
}

function fieldSuggestion(field: string): string {
  const last = field.split('.').at(-1) ?? field;
  const match = Object.keys(TEMPLATE_FIELDS).find((known) => known === last || known.endsWith(`.${last}`));
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

function pathName(node: hbs.AST.Expression): string | undefined {
  return node.type === 'PathExpression' ? (node as hbs.AST.PathExpression).original : undefined;
}

function at(node: hbs.AST.Node, severity: 'error' | 'warning', message: string): TemplateProblem {
  return { severity, line: node.loc?.start.line ?? 1, column: (node.loc?.start.column ?? 0) + 1, message };
}

/** Handlebars reports parse errors as text: "Parse error on line 2: … got 'EOF'". */
function parseProblem(error: unknown): TemplateProblem {
  const text = errorText(error);
  const line = Number(/on line (\d+)/.exec(text)?.[1] ?? /- (\d+):\d+/.exec(text)?.[1] ?? 1);
  const got = /got '([A-Z_]+)'/.exec(text)?.[1];
  const mismatch = /^(\S+) doesn't match (\S+)/.exec(text);
  let detail: string;
  if (got === 'EOF') detail = 'the template ends inside an unclosed {{#…}} block or {{…}} tag';
  else if (got === 'OPEN_ENDBLOCK') detail = 'a closing {{/…}} has no opening {{#…}} block';
  else if (got === 'INVALID') detail = 'a malformed or unclosed {{…}} tag';
  else if (got !== undefined) detail = `unexpected ${got.toLowerCase().replace(/_/g, ' ')}`;
  else if (mismatch) detail = `{{#${mismatch[1]}}} is closed by {{/${mismatch[2]}}}`;
  else detail = text.split('\n', 1)[0] ?? text;
  return { severity: 'error', line, column: 1, message: `template does not parse: ${detail}` };
}
