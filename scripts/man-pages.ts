// Writes procguard's manual pages from the definitions they document, so they cannot drift:
//   man/procguard.1       ← the verbs and options of src/cli/program.ts (what --help prints)
//   man/procguard.yaml.5  ← the keys of schemas/policy.schema.json, with their descriptions,
//                           units and defaults
// Run with `npm run gen:man`; test/docs/man-pages.test.ts fails when a committed page is out
// of date. Nothing here reads the clock: a page's date is the package's version, so the same
// commit always writes the same bytes.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Argument, Command, Option } from 'commander';
import { defineProgram } from '../src/cli/program.js';
import { MEMMON_USAGE } from '../src/modes/memmon.js';
import { ExitCode } from '../src/shared/exit-codes.js';

const ROOT = new URL('../', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { version: string };

export const MAN_PAGES = [
  { file: 'man/procguard.1', render: () => procguardPage(defineProgram(silentIo()).program) },
  { file: 'man/procguard.yaml.5', render: () => policyFilePage(JSON.parse(readFileSync(new URL('schemas/policy.schema.json', ROOT), 'utf8')) as Schema) },
].map((page) => ({ ...page, path: fileURLToPath(new URL(page.file, ROOT)) }));

function silentIo() {
  return { stdout: () => undefined, stderr: () => undefined, env: {}, cwd: '/' };
}

// ---- roff ----------------------------------------------------------------------------------

/**
 * Characters groff's ASCII device has no glyph for, as the named glyphs or plain text it renders in
 * every locale (a root shell on a server often has no LANG, and man then renders with -Tascii).
 */
const GLYPHS = new Map<string, string>([
  ['\u2026', '...'],
  ['\u2014', '\\(em'],
  ['\u2013', '\\(en'],
  ['\u2192', '\\(->'],
  ['\u2190', '\\(<-'],
  ['\u00d7', '\\(mu'],
  ['\u2264', '\\(<='],
  ['\u2265', '\\(>='],
  ['\u2018', '\\(oq'],
  ['\u2019', '\\(cq'],
  ['\u201c', '\\(lq'],
  ['\u201d', '\\(rq'],
]);

/** Text as roff reads it literally: backslashes, minus signs, a leading dot or quote, non-ASCII. */
export function roff(text: string): string {
  return text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .replace(/[^\x20-\x7e\n]/gu, (character) => GLYPHS.get(character) ?? `\\[u${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`)
    .replace(/^([.'])/gm, '\\&$1');
}

/** A paragraph per line of text; an empty line of text is dropped. */
function paragraphs(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line, index) => (index === 0 ? [roff(line)] : ['.PP', roff(line)]));
}

function header(name: string, section: number, title: string, source: string): string[] {
  return [
    `.\\" Generated from ${source} by npm run gen:man. Do not edit by hand.`,
    `.TH ${name} ${section} "" "procguard ${version}" "${title}"`,
    // Hyphenation and adjustment off: option names and keys stay whole, lines ragged.
    '.nh',
    '.ad l',
  ];
}

function tagged(tag: string, body: string[]): string[] {
  return ['.TP', tag, ...body];
}

// ---- procguard(1) --------------------------------------------------------------------------

const EXIT_STATUS: ReadonlyArray<[number, string]> = [
  [ExitCode.OK, 'Success: valid, nothing to do, or every action carried out.'],
  [ExitCode.ACTIONS_PLANNED, 'check: actions are planned. test: a policy test failed.'],
  [ExitCode.INVALID, 'Invalid policy files, snapshot, state or command line (usage is printed on standard error).'],
  [ExitCode.FAILED, 'A collector, action or notification failed, another run held the lock past --wait, or the state directory is unusable.'],
  [ExitCode.INTERNAL_ERROR, 'A bug in procguard itself (EX_SOFTWARE); set PROCGUARD_DEBUG=1 for the stack trace, and please report it.'],
  [ExitCode.MEMMON_USAGE, 'procguard memmon: a bad command line, as superlance memmon exits.'],
];

const ENVIRONMENT: ReadonlyArray<[string, string]> = [
  ['PROCGUARD_CONFIG', 'The policy file or conf.d directory read when no -c is given; without it, /etc/procguard.'],
  ['PROCGUARD_LISTEN_USERNAME, PROCGUARD_LISTEN_PASSWORD', 'Basic authentication for the status page that --listen serves; both or neither.'],
  [
    'SUPERVISOR_SERVER_URL, SUPERVISOR_USERNAME, SUPERVISOR_PASSWORD',
    'Set by supervisord for its event listeners: eventlistener and memmon reach that supervisord through them when no supervisors are configured.',
  ],
  ['PROCGUARD_LOG_FORMAT', 'json or pretty: the format of the log lines of run, eventlistener and memmon (default: readable lines on a terminal, JSON lines elsewhere).'],
  ['PROCGUARD_LOADAVG', "A file in /proc/loadavg's format to read the load averages from instead (to try load policies, or in a container)."],
  ['PROCGUARD_DEBUG', 'Set to 1: an internal error prints its stack trace.'],
  ['NO_COLOR', 'Set: never colour the output, even on a terminal.'],
  [
    'PROCGUARD_CODE_CACHE',
    '0: compile procguard without the code cache, and write none. report: say on standard error, at exit, how many chunks came from the cache, how many were compiled and how many entries were written.',
  ],
];

const FILES: ReadonlyArray<[string, string]> = [
  [
    '/etc/procguard/',
    'The policy files (*.yaml, *.yml), read in name order as one configuration; see procguard.yaml(5). Running as root, procguard refuses files writable by group or others, or owned by another user than root or itself.',
  ],
  ['/var/lib/procguard/', 'The state directory (settings.state_dir), mode 0700.'],
  ['/var/lib/procguard/state.json', 'What procguard remembers between cycles: paused processes, counters, failures; written atomically every cycle.'],
  ['/var/lib/procguard/audit.log', 'One JSON line per action or notification carried out; history reads it and its rotated files.'],
  ['/var/lib/procguard/lock', 'Held by the cycle under way, so that two never overlap.'],
  [
    '/usr/lib/procguard/code-cache/',
    "The code V8 compiled for each part of procguard a command ran, written by root's first run and read by the later runs of every user. A run reads only entries owned by root or by its own user, writable by no one else and not reached through a link. Removed with the package.",
  ],
  ['/usr/share/bash-completion/completions/procguard', 'The bash completion (procguard completion bash).'],
  ['/usr/share/zsh/vendor-completions/_procguard', 'The zsh completion (procguard completion zsh).'],
];

const EXAMPLES: ReadonlyArray<[string, string]> = [
  ['Check the policy files after an edit:', 'procguard validate -c /etc/procguard'],
  ['See what procguard would do on this host now, and why:', 'procguard check --verbose'],
  ['Run one cycle every minute from cron (/etc/cron.d/procguard):', '* * * * * root procguard apply --quiet'],
  ['Run the daemon with its status page on the loopback interface:', 'procguard run --listen 9187'],
  ['What procguard did in the last day to one program:', "procguard history --since 1d --target 'web:*'"],
  ['Replace superlance memmon in supervisord.conf:', 'command=procguard memmon \\-a 200MB \\-m ops@example.com'],
  ['Install the bash completion for one user:', 'procguard completion bash > ~/.local/share/bash-completion/completions/procguard'],
];

/** The verbs, each with its sub-verbs (import memmon), in the order --help lists them. */
function verbs(command: Command, prefix: string[] = []): Array<{ path: string[]; command: Command }> {
  const help = command.createHelp();
  return help
    .visibleCommands(command)
    .filter((sub) => sub.name() !== 'help')
    .flatMap((sub) => [{ path: [...prefix, sub.name()], command: sub }, ...verbs(sub, [...prefix, sub.name()])]);
}

export function procguardPage(program: Command): string {
  const help = program.createHelp();
  const all = verbs(program);
  const usage = (path: string[], command: Command): string => `procguard ${path.join(' ')} ${command.usage()}`.trim();
  const lines = [
    ...header('PROCGUARD', 1, 'procguard manual', 'src/cli/program.ts'),
    '.SH NAME',
    `procguard \\- ${roff(lowerFirst(program.description().replace(/\.$/, '')))}`,
    '.SH SYNOPSIS',
    ...all.filter(({ command }) => command.commands.length === 0).flatMap(({ path, command }) => [`.B ${roff(usage(path, command))}`, '.br']),
    '.B procguard \\-\\-version',
    '.br',
    '.B procguard \\-\\-help',
    '.SH DESCRIPTION',
    roff(program.description()),
    '.PP',
    'procguard reads declarative policies (procguard.yaml(5)), collects a snapshot of the processes on this host, the load and the programs of its supervisord instances, evaluates the policies against it and carries out the plan: restarts and stops through supervisord, signals, oom_score_adj, mail and commands.',
    'check shows the plan and never acts; apply runs one cycle (for cron); run is the daemon; eventlistener and memmon run inside supervisord.',
    'procguard runs as root; every process it signals is checked against its start time first, so a reused pid is never touched.',
    '.PP',
    'Every verb takes \\-h or \\-\\-help (or procguard help VERB), which prints the same options this page lists.',
    'An unknown verb or option prints usage on standard error and exits 2.',
    '.SH COMMANDS',
  ];
  for (const { path, command } of all) {
    lines.push(`.SS "${roff(usage(path, command))}"`);
    lines.push(...paragraphs(command.description() || command.summary()));
    const commandHelp = command.createHelp();
    for (const argument of commandHelp.visibleArguments(command)) lines.push(...argumentItem(commandHelp, argument));
    if (path.at(-1) === 'memmon' && path.length === 1) lines.push(...memmonOptionItems());
    for (const option of commandHelp.visibleOptions(command)) lines.push(...optionItem(commandHelp, option));
    const sub = commandHelp.visibleCommands(command).filter((each) => each.name() !== 'help');
    if (sub.length > 0) lines.push('.PP', `Sub-verbs: ${sub.map((each) => `\\fB${roff(each.name())}\\fR`).join(', ')} (below).`);
  }
  lines.push('.SH OPTIONS', 'These options are taken before any verb.');
  for (const option of help.visibleOptions(program)) lines.push(...optionItem(help, option));
  lines.push('.SH "EXIT STATUS"', 'Each verb above lists the statuses it uses.');
  for (const [code, meaning] of EXIT_STATUS) lines.push(...tagged(`.B ${code}`, [roff(meaning)]));
  lines.push('.SH ENVIRONMENT');
  for (const [name, meaning] of ENVIRONMENT) lines.push(...tagged(`.B ${roff(name)}`, [roff(meaning)]));
  lines.push('.SH FILES');
  for (const [name, meaning] of FILES) lines.push(...tagged(`.I ${roff(name)}`, [roff(meaning)]));
  lines.push('.SH EXAMPLES');
  for (const [what, command] of EXAMPLES) lines.push('.PP', roff(what), '.RS 4', '.nf', `\\f(CR${command.startsWith('command=') ? command : roff(command)}\\fR`, '.fi', '.RE');
  lines.push(
    '.SH "SEE ALSO"',
    '.BR procguard.yaml (5),',
    '.BR supervisord (1),',
    '.BR crontab (5),',
    '.BR systemd.service (5),',
    '.BR proc (5)',
    '.PP',
    'The README and docs/formats.md (the JSON that \\-\\-json prints) in /usr/share/doc/procguard/ or the source repository.',
    '',
  );
  return lines.join('\n');
}

function optionItem(help: ReturnType<Command['createHelp']>, option: Option): string[] {
  const term = help
    .optionTerm(option)
    .split(/(<[^>]+>|\[[^\]]+\])/)
    .map((part) => (/^[<[]/.test(part) ? `\\fI${roff(part)}\\fR` : `\\fB${roff(part)}\\fR`))
    .join('');
  const fallback = option.defaultValue === undefined || (Array.isArray(option.defaultValue) && option.defaultValue.length === 0) ? '' : ` (default: ${String(option.defaultValue)})`;
  return tagged(term, [roff(`${option.description}${fallback}`)]);
}

function argumentItem(help: ReturnType<Command['createHelp']>, argument: Argument): string[] {
  const choices = argument.argChoices ? ` (${argument.argChoices.join(' or ')})` : '';
  return tagged(`\\fI${roff(help.argumentTerm(argument))}\\fR`, [roff(`${argument.description}${choices}`)]);
}

/** memmon's own options, as `procguard memmon -h` lists them: "  -p, --program NAME=SIZE   what". */
function memmonOptionItems(): string[] {
  const items: Array<{ term: string; text: string[] }> = [];
  for (const line of MEMMON_USAGE.split('\n')) {
    const option = /^ {2,6}(-\S.*?)(?: {2,}(\S.*))?$/.exec(line);
    const continued = / {20,}(\S.*)$/.exec(line);
    if (option) items.push({ term: option[1]!, text: option[2] ? [option[2]] : [] });
    else if (continued && items.length > 0) items.at(-1)!.text.push(continued[1]!);
  }
  return [
    '.PP',
    "memmon's options, as procguard memmon \\-h lists them:",
    ...items.flatMap(({ term, text }) => tagged(`\\fB${roff(term).replace(/ ([A-Z=]+)$/, ' \\fI$1')}\\fR`, [roff(text.join(' '))])),
  ];
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

// ---- procguard.yaml(5) ---------------------------------------------------------------------

export interface Schema {
  $ref?: string;
  title?: string;
  description?: string;
  default?: unknown;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  format?: string;
  definitions?: Record<string, Schema>;
}

/** One object of the format: a part of the page, with a key per tagged paragraph. */
export interface FormatSection {
  /** Where it sits in a file: policies[], notifiers.NAME.mail. */
  place: string;
  /** Which of several shapes at one place: kind: memory, or every kind for the keys they share. */
  label?: string;
  schema: Schema;
  /** The keys this part lists (all of the object's keys, but those its siblings share). */
  keys: string[];
  /** Its definition's name, so an object met twice (match inside match.exclude) is one part. */
  definition?: string;
}

/** Every object of the policy file format, in the order a reader meets them from the top. */
export function formatSections(root: Schema): FormatSection[] {
  const sections: FormatSection[] = [];
  const seen = new Set<string>();
  const queue: FormatSection[][] = [[{ place: 'top level', schema: root, keys: Object.keys(root.properties ?? {}) }]];
  while (queue.length > 0) {
    const shapes = queue.shift()!;
    sections.push(...shareKeys(shapes));
    for (const section of shapes) {
      for (const [key, property] of Object.entries(section.schema.properties ?? {})) {
        const place = section.place === 'top level' ? key : `${section.place}.${key}`;
        const nested = nestedObjects(root, property, place).filter((each) => each.definition === undefined || !seen.has(each.definition));
        for (const each of nested) if (each.definition !== undefined) seen.add(each.definition);
        if (nested.length > 0) queue.push(nested);
      }
    }
  }
  return sections;
}

/** Several shapes at one place (the kinds of policy): the keys they all share, written once. */
function shareKeys(shapes: FormatSection[]): FormatSection[] {
  if (shapes.length < 2) return shapes;
  const [first, ...rest] = shapes;
  const same = (key: string) => rest.every((shape) => JSON.stringify(shape.schema.properties?.[key]) === JSON.stringify(first!.schema.properties?.[key]));
  const shared = first!.keys.filter(same);
  const sharedRequired = (first!.schema.required ?? []).filter((key) => shared.includes(key) && rest.every((shape) => shape.schema.required?.includes(key)));
  return [
    { place: first!.place, label: 'every kind', schema: { properties: first!.schema.properties ?? {}, required: sharedRequired }, keys: shared },
    ...shapes.map((shape) => ({ ...shape, keys: shape.keys.filter((key) => !shared.includes(key)) })),
  ];
}

function nestedObjects(root: Schema, property: Schema, place: string, inherited?: string): FormatSection[] {
  // An object written in place inside a definition (notify's items) is known by that definition.
  const definition = refName(property) ?? inherited;
  const schema = resolve(root, property);
  if (schema.properties) return [{ place, schema, keys: Object.keys(schema.properties), ...(definition ? { definition } : {}) }];
  if (typeof schema.additionalProperties === 'object') return nestedObjects(root, schema.additionalProperties, `${place}.NAME`, definition && `${definition}.NAME`);
  if (schema.items) return nestedObjects(root, schema.items, `${place}[]`, definition && `${definition}[]`);
  return (schema.oneOf ?? schema.anyOf ?? []).flatMap((branch, index) => {
    const resolved = resolve(root, branch);
    if (!resolved.properties) return [];
    const kind = resolved.properties.kind?.const;
    // A branch written in place (action's { signal: NAME }) is known by its definition and place.
    const name = refName(branch) ?? (definition === undefined ? undefined : `${definition}/${index}`);
    return [{ place, schema: resolved, keys: Object.keys(resolved.properties), ...(kind === undefined ? {} : { label: `kind: ${String(kind)}` }), ...(name ? { definition: name } : {}) }];
  });
}

function refName(schema: Schema): string | undefined {
  return schema.$ref?.replace('#/definitions/', '');
}

function resolve(root: Schema, schema: Schema): Schema {
  const name = refName(schema);
  if (name === undefined) return schema;
  const target = root.definitions?.[name];
  if (!target) throw new Error(`schemas/policy.schema.json: no definition "${name}"`);
  return resolve(root, target);
}

/** What a key holds, in a reader's words: "duration", "one of: process, tree, group". */
export function valueText(root: Schema, property: Schema): string {
  const name = refName(property);
  if (name === 'size') return 'size (bytes, or KB, MB, GB, KiB, MiB, GiB; see UNITS)';
  if (name === 'duration') return 'duration (seconds, or s, m, h, d; see UNITS)';
  const schema = resolve(root, property);
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map(String).join(', ');
  if (schema.anyOf) return schema.anyOf.map((branch) => (branch.properties ? `{ ${Object.keys(branch.properties).join(', ')}: ... }` : valueText(root, branch))).join(', or ');
  const types = ([] as string[]).concat(schema.type ?? (schema.properties ? 'object' : schema.oneOf ? 'object' : []));
  const words = types.map((type) => {
    if (type === 'array') return `list of ${schema.items ? plural(root, schema.items) : 'values'}`;
    if (type === 'object' && typeof schema.additionalProperties === 'object') return 'map of names to entries';
    if (type === 'integer' || type === 'number') return `${type === 'integer' ? 'integer' : 'number'}${bounds(schema)}`;
    return type;
  });
  return words.join(' or ');
}

function bounds(schema: Schema): string {
  if (schema.minimum !== undefined && schema.maximum !== undefined) return ` from ${schema.minimum} to ${schema.maximum}`;
  if (schema.exclusiveMinimum !== undefined) return ` above ${schema.exclusiveMinimum}`;
  if (schema.minimum !== undefined) return ` of at least ${schema.minimum}`;
  return '';
}

/** What a list holds: "strings", "strings or integers", "objects". */
function plural(root: Schema, items: Schema): string {
  const types = ([] as string[]).concat(resolve(root, items).type ?? []);
  return types.length > 0 && !types.includes('array') ? types.map((type) => `${type}s`).join(' or ') : valueText(root, items);
}

/** A key's meaning, then whether it is required, then its default. */
function keyText(root: Schema, property: Schema, required: boolean): string {
  const resolved = resolve(root, property);
  const unit = ['size', 'duration'].includes(refName(property) ?? '');
  const description = property.description ?? (unit ? undefined : resolved.description);
  const fallback = property.default ?? resolved.default;
  const facts = [description, required ? 'Required.' : undefined, fallback === undefined ? undefined : `Default: ${typeof fallback === 'string' ? fallback : JSON.stringify(fallback)}.`];
  return facts.filter((fact): fact is string => fact !== undefined).join(' ');
}

const SECTION_NOTES: Record<string, string> = {
  'every kind': 'The keys every kind of policy takes; the kinds and their own keys follow.',
  'top level':
    'A policy file is a YAML mapping with up to four sections. Each is optional; procguard merges the sections of every file it reads (in name order, for a directory), and every name must be unique across all of them.',
};

export function policyFilePage(root: Schema): string {
  const definitions = root.definitions ?? {};
  const lines = [
    ...header('PROCGUARD.YAML', 5, 'procguard manual', 'schemas/policy.schema.json'),
    '.SH NAME',
    'procguard.yaml \\- procguard policy files',
    '.SH SYNOPSIS',
    '.I /etc/procguard/*.yaml',
    '.SH DESCRIPTION',
    roff(root.description ?? ''),
    '.PP',
    'procguard validate checks a file against this format and prints each problem as FILE:LINE:COL. Unknown keys are errors. Keys are listed below by where they sit in a file; a key marked required must be given, every other key may be left out and then takes the default given.',
    '.SH UNITS',
    ...tagged('.B size', [roff(definitions.size?.description ?? '')]),
    ...tagged('.B duration', [roff(definitions.duration?.description ?? '')]),
  ];
  lines.push('.SH KEYS', 'Each part below is one mapping of the file, named by where it sits: NAME stands for a name you choose, [] for each item of a list.');
  for (const section of formatSections(root)) {
    lines.push(`.SS "${roff(section.label ? `${section.place}, ${section.label}` : section.place)}"`);
    const note = SECTION_NOTES[section.label ?? section.place] ?? section.schema.description;
    if (note) lines.push(roff(note));
    const required = new Set(section.schema.required ?? []);
    for (const key of section.keys) {
      const property = section.schema.properties![key]!;
      lines.push(...tagged(`\\fB${roff(key)}\\fR: ${roff(valueText(root, property))}`, [roff(keyText(root, property, required.has(key)))]));
    }
  }
  lines.push(
    '.SH EXAMPLES',
    'Restart a supervised program whose memory stays over 200 MiB for two cycles, and mail the operators:',
    '.PP',
    '.RS 4',
    '.nf',
    ...[
      'supervisors:',
      '  main: { url: unix:///run/supervisor.sock }',
      'notifiers:',
      '  ops: { mail: { to: ops@example.com } }',
      'policies:',
      '  - name: web-memory',
      '    kind: memory',
      '    match: { program: "web:*" }',
      '    max_rss: 200MB',
      '    for: 2',
      '    action: restart',
      '    notify: [ { to: ops } ]',
      '  - name: protect-sshd',
      '    kind: oom',
      '    match: { name: sshd, user: root }',
      '    oom_score_adj: -1000',
    ].map((line) => `\\f(CR${roff(line)}\\fR`),
    '.fi',
    '.RE',
    '.SH "SEE ALSO"',
    '.BR procguard (1)',
    '.PP',
    'The JSON Schema of this format: schemas/policy.schema.json in the source repository.',
    '',
  );
  return lines.join('\n');
}

// ---- npm run gen:man -----------------------------------------------------------------------

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(fileURLToPath(new URL('man/', ROOT)), { recursive: true });
  for (const page of MAN_PAGES) {
    writeFileSync(page.path, page.render());
    process.stdout.write(`wrote ${page.file}\n`);
  }
}
