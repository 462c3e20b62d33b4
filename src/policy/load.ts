// Reads policy files from disk: which files a -c PATH stands for (conf.d order), who may
// have written them (refused when unsafe and running as root), their text, and the
// template files they name. Everything after this is pure.

import type { Stats } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { distance } from 'fastest-levenshtein';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { diagnostic, START_OF_FILE, type Diagnostic } from './diagnostics.js';
import { decodeText, describeIoError, type ReadProblem } from '../shared/bounded-read.js';
import { describeWriter, readWalkedFile, untrustedWriters, type WalkedPath } from './path-walk.js';
import { policySchema } from './schema.js';
import { prepareTemplates } from './templates.js';
import { isRecord } from './walk.js';
import { parseYamlFile, type ParsedFile, type TemplateFile } from './yaml-source.js';

export { describeIoError } from '../shared/bounded-read.js';

export const DEFAULT_CONFIG_PATH = '/etc/procguard';
/** Far above any real policy file; protects the parser from a mistaken path or a hostile file. */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;

/** `-c -` and `validate -`: policies read from standard input, named STDIN_NAME in diagnostics. */
export const STDIN_PATH = '-';
export const STDIN_NAME = '<stdin>';

export interface LoadOptions {
  /** The uid procguard runs as; policy files are checked for ownership and mode when it is 0. */
  uid?: number;
  /** Standard input's bytes (at most MAX_POLICY_FILE_BYTES + 1), for STDIN_PATH; without it, `-` is an error. */
  stdin?: () => Promise<Buffer>;
}

export interface LoadResult {
  files: ParsedFile[];
  diagnostics: Diagnostic[];
}

/** -c paths as given, else $PROCGUARD_CONFIG, else /etc/procguard. */
export function configPaths(cliPaths: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  if (cliPaths.length > 0) return [...cliPaths];
  const fromEnv = env.PROCGUARD_CONFIG?.trim();
  return [fromEnv ? fromEnv : DEFAULT_CONFIG_PATH];
}

/** Policy files are *.yaml and *.yml, never hidden files and never policy tests (*.test.yaml). */
export function isPolicyFileName(name: string): boolean {
  return /\.ya?ml$/.test(name) && !name.startsWith('.') && !/\.test\.ya?ml$/.test(name);
}

/** Loads the files of one configuration: every path is a file or a conf.d directory, in order. */
export async function loadPolicyFiles(paths: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const uid = options.uid ?? process.getuid?.() ?? -1;
  const diagnostics: Diagnostic[] = [];
  const files: ParsedFile[] = [];
  // The same file named twice (-c f -c f, a directory and a file in it, two spellings of one
  // path) is loaded once: loaded twice, each of its names would be reported as a duplicate.
  const given = new Map<string, string>();
  const firstTime = async (file: string, path: string): Promise<boolean> => {
    const key = file === STDIN_NAME ? file : await realpath(file).catch(() => resolve(file));
    const first = given.get(key);
    if (first === undefined) {
      given.set(key, path);
      return true;
    }
    const what = file === STDIN_NAME ? 'Standard input' : `Policy file ${file}`;
    diagnostics.push(diagnostic(file, START_OF_FILE, 'warning', 'duplicate-file', `${what} is given twice, as ${first} and as ${path}; it is read once`));
    return false;
  };
  for (const path of paths) {
    if (path === STDIN_PATH) {
      if (!(await firstTime(STDIN_NAME, path))) continue;
      const parsed = await loadStandardInput(options, uid, diagnostics);
      if (parsed) files.push(parsed);
      continue;
    }
    const listed = await listPolicyFiles(path, uid, diagnostics);
    if (listed === undefined) continue;
    if (listed.length === 0) {
      diagnostics.push(diagnostic(path, START_OF_FILE, 'error', 'no-policy-files', `No policy files (*.yaml, *.yml) in directory ${path}`));
    }
    for (const filePath of listed) {
      if (!(await firstTime(filePath, path))) continue;
      const parsed = await loadPolicyFile(filePath, uid, diagnostics);
      if (parsed) files.push(parsed);
    }
  }
  await prepareTemplates(files);
  return { files, diagnostics };
}

/** A directory `validate PATH` found YAML in, none of it procguard's (a Prometheus or CI configuration). */
export interface ForeignDirectory {
  directory: string;
  /** Each file with the top-level keys that told it apart. */
  files: { name: string; keys: string[] }[];
}

/**
 * The top-level keys of procguard's files: policy files and hub files. A file whose top-level
 * keys are all far from these (more than two edits from each) is another tool's.
 */
const PROCGUARD_TOP_LEVEL = [...Object.keys(policySchema.properties ?? {}), 'hub', 'agents', 'file_sd'];

/** The top-level keys of a file that is plainly not procguard's, or undefined when it may be one. */
async function foreignKeys(path: string): Promise<string[] | undefined> {
  let text: string;
  try {
    const stats = await stat(path);
    if (!stats.isFile() || stats.size > MAX_POLICY_FILE_BYTES) return undefined;
    text = await readFile(path, 'utf8');
  } catch {
    return undefined; // loading it reports why
  }
  // Broken YAML has no data here; it is reported as a policy file's error.
  const { data } = (await parseYamlFile(path, text)).file;
  if (!isRecord(data)) return undefined;
  const keys = Object.keys(data);
  if (keys.length === 0) return undefined;
  const near = (key: string) => PROCGUARD_TOP_LEVEL.some((known) => distance(key.toLowerCase(), known) <= 2);
  return keys.some(near) ? undefined : keys;
}

/**
 * The policy sets under a path, for `validate PATH`: a file alone, or every directory
 * below PATH that holds policy files (hidden directories and node_modules skipped). Found by
 * walking, a directory whose YAML files are all plainly another tool's (no top-level key is
 * procguard's or a misspelling of one) is not a set: it goes to `foreign`, for validate to name.
 */
export async function discoverPolicySets(root: string, foreign: ForeignDirectory[] = []): Promise<string[]> {
  if (root === STDIN_PATH) return [root];
  let stats: Stats;
  try {
    stats = await stat(root);
  } catch {
    return [root]; // loading it reports why
  }
  if (!stats.isDirectory()) return [root];
  const sets: string[] = [];
  const walk = async (directory: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const yamlFiles = entries.filter((e) => isPolicyFileName(e.name) && !e.isDirectory());
    if (yamlFiles.length > 0) {
      const files: ForeignDirectory['files'] = [];
      for (const entry of yamlFiles) {
        const keys = await foreignKeys(join(directory, entry.name));
        if (keys === undefined) break;
        files.push({ name: entry.name, keys });
      }
      if (directory !== root && files.length === yamlFiles.length) foreign.push({ directory, files });
      else sets.push(directory);
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules') {
        await walk(join(directory, entry.name));
      }
    }
  };
  await walk(root);
  return sets.length > 0 || foreign.length > 0 ? sets : [root];
}

async function listPolicyFiles(path: string, uid: number, diagnostics: Diagnostic[]): Promise<string[] | undefined> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    diagnostics.push(diagnostic(path, START_OF_FILE, 'error', 'io', `Cannot read ${path}: ${describeIoError(error)}`));
    return undefined;
  }
  if (!stats.isDirectory()) return [path];
  const refusal = permissionProblem(path, stats, uid, 'directory');
  if (refusal) {
    diagnostics.push(diagnostic(path, START_OF_FILE, 'error', 'permission', refusal));
    return undefined;
  }
  let names: string[];
  try {
    names = (await readdir(path)).filter(isPolicyFileName).sort();
  } catch (error) {
    diagnostics.push(diagnostic(path, START_OF_FILE, 'error', 'io', `Cannot list ${path}: ${describeIoError(error)}`));
    return undefined;
  }
  const files: string[] = [];
  for (const name of names) {
    const file = join(path, name);
    const escape = await outsideOf(file, path);
    if (escape === undefined) files.push(file);
    else {
      diagnostics.push(
        diagnostic(
          file,
          START_OF_FILE,
          'error',
          'permission',
          `Refused: policy file ${file} is a symbolic link to ${escape}, outside the policy directory ${path}; copy the file into the directory, or name it with its own -c`,
        ),
      );
    }
  }
  return files;
}

/**
 * Where `path` really is when that is outside `directory` (a symbolic link leaving it), else
 * undefined. A path that cannot be resolved is left for the read to report.
 */
async function outsideOf(path: string, directory: string): Promise<string | undefined> {
  let real: string;
  let root: string;
  try {
    [real, root] = await Promise.all([realpath(path), realpath(directory)]);
  } catch {
    return undefined;
  }
  const inside = relative(root, real);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? undefined : real;
}

async function loadPolicyFile(path: string, uid: number, diagnostics: Diagnostic[]): Promise<ParsedFile | undefined> {
  const text = await readCheckedText(path, uid, 'policy file');
  return parsePolicyText(path, text, uid, diagnostics);
}

/**
 * Policies piped in: bounded as a file is, named STDIN_NAME, templates they name read from
 * the current directory. Whoever runs procguard chose what it reads, so there is no file
 * whose writers to check.
 */
async function loadStandardInput(options: LoadOptions, uid: number, diagnostics: Diagnostic[]): Promise<ParsedFile | undefined> {
  if (!options.stdin) {
    const message = `Standard input (${STDIN_PATH}) cannot hold the policies of this command: name a file or directory`;
    diagnostics.push(diagnostic(STDIN_NAME, START_OF_FILE, 'error', 'io', message));
    return undefined;
  }
  let text: string | ReadProblem;
  try {
    text = decodeText(STDIN_NAME, await options.stdin(), MAX_POLICY_FILE_BYTES, 'policy file');
  } catch (error) {
    const reason = describeIoError(error);
    text = { code: 'io', message: `Cannot read ${STDIN_NAME}: ${reason}`, reason };
  }
  return parsePolicyText(STDIN_NAME, text, uid, diagnostics);
}

async function parsePolicyText(path: string, text: string | ReadProblem, uid: number, diagnostics: Diagnostic[]): Promise<ParsedFile | undefined> {
  if (typeof text !== 'string') {
    diagnostics.push(diagnostic(path, START_OF_FILE, 'error', text.code, text.message));
    return undefined;
  }
  const { file, diagnostics: parseDiagnostics } = await parseYamlFile(path, text);
  diagnostics.push(...parseDiagnostics);
  for (const bodyFile of bodyFilesNamed(file.data)) {
    file.templates.set(bodyFile, await loadTemplate(bodyFile, dirname(path), uid));
  }
  return file;
}

/** A body_file, read relative to its policy file's directory and only from in or below it. */
async function loadTemplate(bodyFile: string, directory: string, uid: number): Promise<TemplateFile> {
  const shown = join(directory, bodyFile);
  const root = await realpath(directory).catch(() => resolve(directory));
  // Not normalized: `..` is walked where the links on the way really lead, as the kernel would.
  const path = isAbsolute(bodyFile) ? bodyFile : `${resolve(directory)}/${bodyFile}`;
  const text = await readCheckedText(path, uid, 'template file', (walked) => {
    const inside = relative(root, walked.resolved);
    if (inside !== '' && !inside.startsWith('..') && !isAbsolute(inside)) return undefined;
    const reason = `${bodyFile} is ${walked.resolved}, outside ${directory}; keep templates in or below the directory of the policy file that names them`;
    return { code: 'permission', message: `Refused: ${reason}`, reason };
  });
  return typeof text === 'string' ? { path: shown, text } : { path: shown, error: text.message };
}

/**
 * The text of a policy or template file. Running as root, every component of its path is
 * judged first (path-walk.ts): a directory, link or file that a user other than root could
 * change is refused, since that user could then decide what procguard does or mails. It is
 * then opened without following links and without blocking (a FIFO named *.yaml must not hang
 * a cycle), and read through the handle that was checked against the walk.
 */
async function readCheckedText(path: string, uid: number, what: string, accept?: (walked: WalkedPath) => ReadProblem | undefined): Promise<string | ReadProblem> {
  const read = await readWalkedFile(path, MAX_POLICY_FILE_BYTES, {
    followLastLink: true,
    accept: (walked) => {
      const [writer] = uid === 0 ? untrustedWriters(walked, [0]) : [];
      if (!writer) return accept?.(walked);
      const reason = `${describeWriter(what, path, writer)}, and procguard runs as root; fix with: ${writer.fix}`;
      return { code: 'permission', message: `Refused: ${reason}`, reason };
    },
  });
  return 'code' in read ? read : decodeText(path, read.bytes, MAX_POLICY_FILE_BYTES, what);
}

/**
 * Running as root, procguard obeys these files: anyone who can change them can make it stop,
 * kill or restart anything. So they must be writable only by their owner, root or procguard's user.
 */
export function permissionProblem(path: string, stats: Pick<Stats, 'mode' | 'uid'>, uid: number, what: string): string | undefined {
  if (uid !== 0) return undefined;
  const writers = [stats.mode & 0o020 ? 'group' : '', stats.mode & 0o002 ? 'others' : ''].filter(Boolean);
  if (writers.length > 0) {
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
    return `Refused: ${what} ${path} is writable by ${writers.join(' and ')} (mode ${mode}), and procguard runs as root; fix with: chmod go-w ${path}`;
  }
  if (stats.uid !== 0 && stats.uid !== uid) {
    return `Refused: ${what} ${path} is owned by uid ${stats.uid}, not by root, and procguard runs as root; fix with: chown root ${path}`;
  }
  return undefined;
}

function bodyFilesNamed(data: unknown): string[] {
  const notifiers = isRecord(data) ? data.notifiers : undefined;
  if (!isRecord(notifiers)) return [];
  return Object.values(notifiers).flatMap((notifier) => {
    const mail = isRecord(notifier) ? notifier.mail : undefined;
    return isRecord(mail) && typeof mail.body_file === 'string' && mail.body_file !== '' ? [mail.body_file] : [];
  });
}
