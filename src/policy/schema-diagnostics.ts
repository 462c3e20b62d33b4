// Checks one parsed file against the policy schema (or a hub file against the hub schema) and
// rewrites ajv's errors in the operator's terms: which policy or agent, which key, what was
// expected, what was found, and the nearest valid spelling. Every message points at the YAML
// node it is about.

import { capitalize, show } from '../shared/text.js';
import type { ErrorObject } from 'ajv';
import { diagnostic, type Diagnostic, type DiagnosticCode } from './diagnostics.js';
import { KINDS, POLICY_KINDS } from './kinds/index.js';
import { definition, policyFileValidator, type JsonSchema } from './schema.js';
import { didYouMean, nearest, suggestKey } from './suggest.js';
import { DURATION_UNITS_HELP, MEMORY_LIMIT_HELP, parsePercent, SIZE_UNITS_HELP } from '../shared/units.js';
import { locate, type ParsedFile, type PathSegment } from './yaml-source.js';

type AjvError = ErrorObject<string, Record<string, unknown>, unknown>;

/** Each kind's branch of the schema. */
const POLICY_DEFINITIONS = [...KINDS.values()].map((kind) => kind.schemaDefinition);

/**
 * The schema nodes whose errors get their own wording carry an "x-diagnostic" annotation in
 * schemas/policy.schema.json; ajv reports the node (a copy of it) as an error's `parentSchema`.
 */
export const ANNOTATED_NODES = [
  'size',
  'duration',
  'cpu-percent',
  'policy-name',
  'object-name',
  'env-name',
  'signal-name',
  'string-or-list',
  'exec',
  'match',
  'supervisor-url',
  'settings-name',
  'state-dir',
  'user',
  'notify',
  'notify-rule',
  'policy',
  'supervisor',
  'notifier',
  'mail',
  'smtp',
  'alertmanager',
  'webhook',
  'notifier-url',
  'hosts',
  'inventory-host',
  'label-key',
  'host-name',
  'hub-file',
  'hub-settings',
  'agent',
  'agent-url',
  'label-name',
] as const;
type Annotated = (typeof ANNOTATED_NODES)[number];

/** The mappings whose unexpected keys get their place's hints (suggestKey). */
const KEY_PLACES: readonly Annotated[] = ['policy', 'supervisor', 'notifier', 'mail', 'smtp', 'match', 'alertmanager', 'webhook', 'hosts', 'inventory-host', 'hub-file', 'hub-settings', 'agent'];

function annotation(schema: JsonSchema | undefined): Annotated | undefined {
  const name = schema?.['x-diagnostic'];
  return typeof name === 'string' ? (name as Annotated) : undefined;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  array: 'a list',
  object: 'a mapping',
  boolean: 'true or false',
  null: 'empty',
};

export function checkAgainstSchema(file: ParsedFile): Diagnostic[] {
  const validate = policyFileValidator();
  if (validate(file.data)) return [];
  return translateErrors(file, (validate.errors ?? []) as AjvError[]);
}

/** The errors of any validator compiled from procguard's schemas (the hub file's too), worded as the policy file's are. */
export function translateErrors(file: ParsedFile, errors: AjvError[]): Diagnostic[] {
  const dropped = new Set<AjvError>();
  for (const error of errors) {
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') {
      for (const child of branchErrors(error, errors)) dropped.add(child);
    }
    if (error.propertyName !== undefined) dropped.add(error);
  }
  const missingKind = new Set(errors.filter((e) => e.keyword === 'required' && e.params.missingProperty === 'kind').map((e) => e.instancePath));
  // A value of the wrong type altogether: its type error says it all.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type' && !dropped.has(e)).map((e) => e.instancePath));
  const diagnostics: Diagnostic[] = [];
  for (const error of errors) {
    if (dropped.has(error)) continue;
    if (['oneOf', 'anyOf', 'not', 'required'].includes(error.keyword) && wrongType.has(error.instancePath)) continue;
    if (error.keyword === 'discriminator' && missingKind.has(error.instancePath)) continue;
    const translated = translate(file, error);
    if (translated) diagnostics.push(translated);
  }
  return diagnostics;
}

/** The errors of an anyOf/oneOf's branches that its own message replaces. */
function branchErrors(error: AjvError, errors: AjvError[]): AjvError[] {
  const branches = Array.isArray(error.schema) ? (error.schema as JsonSchema[]) : [];
  const atSamePlace = errors.filter((e) => e !== error && e.instancePath === error.instancePath);
  const fromBranches = atSamePlace.filter((e) => branchOf(error, e) !== undefined);
  if (isChoiceOfKeys(branches)) return fromBranches;
  const fitting = [...branches.keys()].filter((index) => fitsType(branches[index]!, error.data));
  if (fitting.length === 1) {
    // The value has the shape of one branch: when that branch says more than "wrong type",
    // its own errors (or those nested below the value) explain the problem best.
    const rootMismatch = (e: AjvError) => ['type', 'enum', 'const'].includes(e.keyword);
    const explained = errors.some((e) => (branchOf(error, e) === fitting[0] && !rootMismatch(e) && e.instancePath === error.instancePath) || e.instancePath.startsWith(`${error.instancePath}/`));
    if (explained) return [...fromBranches.filter((e) => branchOf(error, e) !== fitting[0]), error];
  }
  return fromBranches;
}

/**
 * Which branch of the anyOf/oneOf `choice` reports `error` from one of its own keywords (not
 * from a schema nested in the branch): ajv's schema path of such an error is the choice's
 * followed by the branch's index and the keyword.
 */
function branchOf(choice: AjvError, error: AjvError): number | undefined {
  const prefix = `${choice.schemaPath}/`;
  if (!error.schemaPath.startsWith(prefix)) return undefined;
  const [index, keyword, ...deeper] = error.schemaPath.slice(prefix.length).split('/');
  if (keyword !== error.keyword || deeper.length > 0 || !/^\d+$/.test(index ?? '')) return undefined;
  return Number(index);
}

function translate(file: ParsedFile, error: AjvError): Diagnostic | undefined {
  const path = pointerToPath(file.data, error.instancePath);
  const place = describePlace(file.data, path);
  const subject = place.subject;
  const value = error.data;
  const parent = error.parentSchema as JsonSchema | undefined;
  const at = (code: DiagnosticCode, message: string, target: PathSegment[] = path, which: 'key' | 'value' = 'value') => diagnostic(file.path, locate(file, target, which), 'error', code, message);

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      return at('unexpected-key', unexpectedKeyMessage(key, parent, place), [...path, key], 'key');
    }
    case 'required': {
      const key = String(error.params.missingProperty);
      const owner = capitalize(place.objectName);
      if (key === 'kind') return at('missing-key', `${owner} has no "kind"; use one of ${POLICY_KINDS.join(', ')}`);
      const kind = place.kind ? ` (kind ${place.kind})` : '';
      return at('missing-key', `${owner}${kind} is missing required key "${key}"`);
    }
    case 'dependencies': {
      const key = String(error.params.property);
      if (annotation(parent) === 'agent')
        return at('inconsistent', `${capitalize(place.objectName)} sets "${key}" without "${String(error.params.deps)}"; give both or neither`, [...path, key], 'key');
      return at('inconsistent', `${capitalize(place.objectName)} sets "${key}", which only ${quoteList(String(error.params.deps).split(', '), 'and')} takes; remove it`, [...path, key], 'key');
    }
    case 'propertyNames': {
      const name = String(error.params.propertyName);
      // Prometheus label names (a hub agent's labels, an alertmanager notifier's) and host labels differ.
      if (path[path.length - 1] === 'labels' && (path[0] === 'agents' || path.includes('alertmanager'))) {
        return at('invalid-value', `Invalid label name ${show(name)} in ${place.objectName}: use letters, digits and "_", not starting with a digit`, [...path, name], 'key');
      }
      if (path[path.length - 1] === 'env') {
        return at('invalid-value', `Invalid variable name ${show(name)} in ${place.objectName}: use letters, digits and "_", not starting with a digit`, [...path, name], 'key');
      }
      if (path[path.length - 1] === 'labels') {
        return at('invalid-value', `Invalid label key ${show(name)} in ${place.objectName}: use letters, digits, ".", "_", "/" and "-", starting with a letter or digit`, [...path, name], 'key');
      }
      if (path.length === 1 && path[0] === 'inventory') {
        return at('invalid-value', `Invalid hostname ${show(name)} in the inventory: use letters, digits, ".", "_" and "-", starting with a letter or digit`, [...path, name], 'key');
      }
      const what = path[0] === 'supervisors' ? 'supervisor' : path[0] === 'notifiers' ? 'notifier' : 'key';
      return at('invalid-value', `Invalid ${what} name ${show(name)}: use letters, digits, ".", "_" and "-", starting with a letter or digit`, [...path, name], 'key');
    }
    case 'discriminator': {
      const tag = error.params.tagValue;
      const kinds = POLICY_KINDS.join(', ');
      const suggestion = typeof tag === 'string' ? nearest(tag, POLICY_KINDS) : undefined;
      return at('invalid-value', `Unknown kind ${show(tag)} in ${place.objectName}; use one of ${kinds}${didYouMean(suggestion)}`, [...path, 'kind']);
    }
    case 'oneOf':
    case 'anyOf':
      return at('invalid-value', choiceMessage(error, subject, place));
    case 'not': {
      const keys = ((error.schema as JsonSchema | undefined)?.required as string[] | undefined) ?? [];
      return at('inconsistent', `${capitalize(place.objectName)} sets both ${quoteList(keys, 'and')}; use only one`);
    }
    case 'type':
      return at('invalid-value', typeMessage(error, subject, parent, value));
    case 'format':
      return at('invalid-value', formatMessage(String(error.params.format), subject, value));
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map(String);
      const suggestion = typeof value === 'string' ? nearest(value, allowed) : undefined;
      return at('invalid-value', `${capitalize(subject)} must be one of ${allowed.join(', ')}, not ${show(value)}${didYouMean(suggestion)}`);
    }
    case 'const':
      return at('invalid-value', `${capitalize(subject)} must be ${show(error.params.allowedValue)}, not ${show(value)}`);
    case 'pattern':
      return at('invalid-value', patternMessage(subject, parent, value));
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return at('invalid-value', rangeMessage(subject, parent, value));
    case 'minLength':
      return at('invalid-value', `${capitalize(subject)} must not be empty`);
    case 'maxLength':
      return at('invalid-value', `${capitalize(subject)} is too long (at most ${String(error.params.limit)} characters)`);
    case 'minItems':
      return at('invalid-value', `${capitalize(subject)} must list at least ${String(error.params.limit)} item`);
    case 'minProperties':
      if (annotation(parent) === 'match') return at('invalid-value', emptyMatchMessage(subject));
      return at('invalid-value', `${capitalize(subject)} must not be empty`);
    default:
      return at('schema', `${capitalize(subject)} ${error.message ?? 'is invalid'}`);
  }
}

interface Place {
  /** "max_rss in policy "web"" — the value an error is about. */
  subject: string;
  /** "policy "web"", "match of policy "web"" — the mapping at the path, for key errors. */
  objectName: string;
  kind?: string;
}

function describePlace(data: unknown, path: PathSegment[]): Place {
  const [section, entry] = path;
  let owner: string | undefined;
  let rest = path;
  let kind: string | undefined;
  if (section === 'policies' && typeof entry === 'number') {
    const policy = (data as { policies: unknown[] }).policies[entry] as Record<string, unknown> | undefined;
    const name = policy?.name;
    owner = typeof name === 'string' && name !== '' ? `policy ${show(name)}` : `policy #${entry + 1}`;
    kind = typeof policy?.kind === 'string' && POLICY_KINDS.includes(policy.kind) ? policy.kind : undefined;
    rest = path.slice(2);
  } else if ((section === 'supervisors' || section === 'notifiers') && entry !== undefined) {
    owner = `${section.slice(0, -1)} ${show(String(entry))}`;
    rest = path.slice(2);
  } else if (section === 'agents' && typeof entry === 'number') {
    const agent = (data as { agents: unknown[] }).agents[entry] as Record<string, unknown> | undefined;
    const name = agent?.name;
    owner = typeof name === 'string' && name !== '' ? `agent ${show(name)}` : `agent #${entry + 1}`;
    rest = path.slice(2);
  } else if (section === 'settings' || section === 'hub') {
    owner = section;
    rest = path.slice(1);
  }
  const field = rest.length === 0 ? '' : `"${dotted(rest)}"`;
  if (owner === undefined) {
    return { subject: field === '' ? 'the file' : field, objectName: field === '' ? 'the top level' : field };
  }
  const subject = field === '' ? owner : `${field} in ${owner}`;
  return { subject, objectName: field === '' ? owner : `${field} of ${owner}`, ...(kind ? { kind } : {}) };
}

function unexpectedKeyMessage(key: string, parent: JsonSchema | undefined, place: Place): string {
  const allowed = Object.keys(parent?.properties ?? {});
  const where = place.objectName === 'the top level' ? 'at the top level' : `in ${place.objectName}`;
  const otherKind = place.kind ? kindOwningKey(key, place.kind) : undefined;
  if (otherKind) {
    return `Unexpected key "${key}" ${where}: "${key}" belongs to ${otherKind} policies and this one has kind ${place.kind}. Allowed keys: ${allowed.join(', ')}`;
  }
  const node = annotation(parent);
  const suggestion = suggestKey(node !== undefined && KEY_PLACES.includes(node) ? node : 'top', key, allowed);
  const hint = suggestion === undefined ? '.' : `; did you mean "${suggestion}"?`;
  return `Unexpected key "${key}" ${where}${hint} Allowed keys: ${allowed.join(', ')}`;
}

function kindOwningKey(key: string, ownKind: string): string | undefined {
  for (const name of POLICY_DEFINITIONS) {
    const properties = definition(name).properties ?? {};
    const kind = String((properties.kind as JsonSchema | undefined)?.const);
    if (kind !== ownKind && Object.hasOwn(properties, key)) return kind;
  }
  return undefined;
}

function choiceMessage(error: AjvError, subject: string, place: Place): string {
  const branches = Array.isArray(error.schema) ? (error.schema as JsonSchema[]) : [];
  if (isChoiceOfKeys(branches)) {
    const keys = branches.map((b) => (b.required as string[])[0] ?? '');
    const passing = error.params.passingSchemas as number[] | null | undefined;
    const owner = capitalize(place.objectName);
    if (passing && passing.length > 1) {
      // Of several choices, the ones it set.
      const set = error.data !== null && typeof error.data === 'object' ? keys.filter((k) => Object.hasOwn(error.data as object, k)) : keys;
      return `${owner} sets both ${quoteList(set, 'and')}; use only one`;
    }
    return `${owner} needs ${quoteList(keys, 'or')}`;
  }
  const description = (error.parentSchema as JsonSchema | undefined)?.description ?? 'valid';
  const words = branches.flatMap((b) => (Array.isArray(b.enum) ? b.enum.map(String) : []));
  const suggestion = typeof error.data === 'string' ? nearest(error.data, words) : undefined;
  return `${capitalize(subject)} must be ${description}, not ${show(error.data)}${didYouMean(suggestion)}`;
}

function typeMessage(error: AjvError, subject: string, parent: JsonSchema | undefined, value: unknown): string {
  if (error.instancePath === '') {
    return `A policy file must be a mapping of settings, supervisors, notifiers and policies, not ${show(value)}`;
  }
  const node = annotation(parent);
  if (node === 'size') return `Invalid size ${show(value)} for ${subject}: ${parent?.format === 'memory-limit' ? MEMORY_LIMIT_HELP : SIZE_UNITS_HELP}`;
  if (node === 'duration') return `Invalid duration ${show(value)} for ${subject}: ${DURATION_UNITS_HELP}`;
  if (node === 'cpu-percent') return cpuPercentMessage(subject, value);
  let expected: string;
  if (node === 'string-or-list') expected = 'a string or a list of strings';
  else if (node === 'user') expected = 'a user name, a uid or a list of them';
  else if (node === 'exec') expected = 'a list: the program and its arguments, e.g. [/usr/local/bin/page-oncall, --json]';
  else {
    const types = ([] as unknown[]).concat(error.params.type).map((t) => (Object.hasOwn(TYPE_WORDS, String(t)) ? TYPE_WORDS[String(t)] : undefined) ?? String(t));
    expected = types.join(' or ');
  }
  const hint = typeof value === 'string' && (node === 'notify' || node === 'notify-rule') ? `; write notify: [{ to: ${value} }]` : '';
  return `${capitalize(subject)} must be ${expected}, not ${show(value)}${hint}`;
}

function formatMessage(format: string, subject: string, value: unknown): string {
  switch (format) {
    case 'size':
      return `Invalid size ${show(value)} for ${subject}: ${SIZE_UNITS_HELP}`;
    case 'memory-limit': {
      const percent = parsePercent(value);
      if (percent !== undefined) return `Invalid share ${show(value)} for ${subject}: at most 100% of the host's memory`;
      return `Invalid size ${show(value)} for ${subject}: ${MEMORY_LIMIT_HELP}`;
    }
    case 'duration':
      return `Invalid duration ${show(value)} for ${subject}: ${DURATION_UNITS_HELP}`;
    case 'email':
      return `Invalid mail address ${show(value)} in ${subject}: use user@host, "Name <user@host>" or a local name for sendmail (root)`;
    case 'smtp-url':
      return `Invalid SMTP URL ${show(value)} in ${subject}: use smtp://host[:port] or smtps://host[:port], with credentials in username and password_env`;
    default:
      return `${capitalize(subject)} is not a valid ${format}: ${show(value)}`;
  }
}

function patternMessage(subject: string, parent: JsonSchema | undefined, value: unknown): string {
  const node = annotation(parent);
  if (node === 'policy-name') {
    return `Invalid policy name ${show(value)}: use lower-case letters, digits, ".", "_" and "-", starting with a letter or digit`;
  }
  if (node === 'object-name') {
    return `Invalid name ${show(value)} in ${subject}: use letters, digits, ".", "_" and "-", starting with a letter or digit`;
  }
  if (node === 'env-name') return `Invalid environment variable name ${show(value)} in ${subject}`;
  if (node === 'label-key') return `Invalid label key ${show(value)} in ${subject}: use letters, digits, ".", "_", "/" and "-", starting with a letter or digit`;
  if (node === 'host-name') return `Invalid hostname ${show(value)} in ${subject}: use letters, digits, ".", "_" and "-", starting with a letter or digit`;
  if (node === 'signal-name') {
    return `Unknown signal ${show(value)} in ${subject}: use a name such as HUP, INT, TERM, USR1 or USR2, with or without "SIG"`;
  }
  if (node === 'supervisor-url') {
    const credentials = typeof value === 'string' && /^https?:\/\/[^/\s]*@/.test(value) ? '; give credentials as username and password_env or password_file' : '';
    return `${capitalize(subject)} must be unix:///path/to/supervisor.sock or http://host:port, not ${show(value)}${credentials}`;
  }
  if (node === 'notifier-url') {
    const credentials = typeof value === 'string' && /^https?:\/\/[^/\s]*@/.test(value) ? '; no credentials in the URL: a webhook is signed with secret_env' : '';
    return `${capitalize(subject)} must be an http:// or https:// URL such as http://host:9093, not ${show(value)}${credentials}`;
  }
  if (node === 'cpu-percent') return cpuPercentMessage(subject, value);
  if (node === 'agent-url') {
    const credentials = typeof value === 'string' && /^https?:\/\/[^/\s]*@/.test(value) ? '; give credentials as username and password_env' : '';
    return `${capitalize(subject)} must be http://host:port or https://host:port (the agent's --listen), not ${show(value)}${credentials}`;
  }
  if (node === 'label-name') return `Invalid label name ${show(value)} in ${subject}: use letters, digits and "_", not starting with a digit`;
  if (node === 'settings-name') return `${capitalize(subject)} must be a single line`;
  if (node === 'state-dir') return `${capitalize(subject)} must be an absolute path, not ${show(value)}`;
  return `${capitalize(subject)} has an invalid format: ${show(value)}`;
}

/** A share of CPU written without its "%", or not as a percentage at all. */
function cpuPercentMessage(subject: string, value: unknown): string {
  const bare = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[0-9]+(?:\.[0-9]+)?\s*%?\s*$/.test(value) ? Number(value.replace(/[\s%]/g, '')) : undefined;
  const hint = bare !== undefined && Number.isFinite(bare) && bare >= 0 ? `; did you mean "${bare}%"?` : '';
  return `Invalid CPU share ${show(value)} for ${subject}: write a percentage of one core, e.g. "80%" (100% is one core, 250% two and a half)${hint}`;
}

function rangeMessage(subject: string, parent: JsonSchema | undefined, value: unknown): string {
  const node = annotation(parent);
  if (node === 'size') return `Invalid size ${show(value)} for ${subject}: must not be negative`;
  if (node === 'duration') return `Invalid duration ${show(value)} for ${subject}: must not be negative`;
  const { minimum, maximum, exclusiveMinimum } = (parent ?? {}) as Record<string, number | undefined>;
  let bound: string;
  if (minimum !== undefined && maximum !== undefined) bound = `between ${minimum} and ${maximum}`;
  else if (exclusiveMinimum !== undefined) bound = `greater than ${exclusiveMinimum}`;
  else if (minimum !== undefined) bound = `at least ${minimum}`;
  else bound = `at most ${String(maximum)}`;
  return `${capitalize(subject)} must be ${bound}, not ${show(value)}`;
}

function emptyMatchMessage(subject: string): string {
  const keys = Object.keys(definition('match').properties ?? {}).filter((k) => k !== 'exclude');
  return `Empty ${subject}: a policy must say which processes it applies to; give at least one of ${keys.join(', ')}`;
}

function isChoiceOfKeys(branches: JsonSchema[]): boolean {
  return branches.length > 0 && branches.every((b) => Object.keys(b).length === 1 && Array.isArray(b.required));
}

function fitsType(branch: JsonSchema, value: unknown): boolean {
  if (Array.isArray(branch.enum)) return branch.enum.some((item) => typeof item === typeof value);
  const types = ([] as unknown[]).concat(branch.type ?? []);
  return types.some((t) => t === jsonType(value) || (t === 'number' && jsonType(value) === 'integer'));
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function pointerToPath(data: unknown, pointer: string): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(node) ? Number(segment) : NaN;
    const step: PathSegment = Number.isInteger(index) ? index : segment;
    path.push(step);
    node = node !== null && typeof node === 'object' ? (node as Record<PathSegment, unknown>)[step] : undefined;
  }
  return path;
}

export function dotted(path: PathSegment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function quoteList(items: string[], conjunction: 'and' | 'or'): string {
  const quoted = items.map((i) => `"${i}"`);
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} ${conjunction} ${quoted.at(-1)}`;
}
