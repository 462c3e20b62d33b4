// superlance memmon's command line, parsed as memmon parses it (getopt): short options,
// long options and their unique prefixes, the documented aliases --groupname and --sendmail,
// memmon's size and uptime units. Used by `procguard import memmon` and the memmon drop-in.

import { parseMemmonSize, parseMemmonUptime } from '../shared/units.js';

export interface MemmonOptions {
  help: boolean;
  cumulative: boolean;
  /** -p NAME=SIZE, last one for a name wins (memmon keeps a dict). */
  programs: Map<string, number>;
  groups: Map<string, number>;
  any?: number;
  sendmail: string;
  email?: string;
  /** Seconds; undefined = no limit. */
  uptime?: number;
  name?: string;
  /** Each size and the uptime as written, for `import memmon` to keep the user's units. */
  written: { programs: Map<string, string>; groups: Map<string, string>; any?: string; uptime?: string };
}

export const MEMMON_DEFAULT_SENDMAIL = '/usr/sbin/sendmail -t -i';

export class MemmonUsageError extends Error {}

const SHORT_WITH_VALUE = new Set(['p', 'g', 'a', 's', 'm', 'u', 'n']);
const SHORT_FLAGS = new Set(['h', 'c']);
/** Long options (getopt accepts any unique prefix) → the short option they stand for. */
const LONG: ReadonlyArray<[string, string, boolean]> = [
  ['help', 'h', false],
  ['cumulative', 'c', false],
  ['program', 'p', true],
  ['group', 'g', true],
  ['groupname', 'g', true],
  ['any', 'a', true],
  ['sendmail_program', 's', true],
  ['sendmail', 's', true],
  ['email', 'm', true],
  ['uptime', 'u', true],
  ['name', 'n', true],
];

export function parseMemmonArgs(argv: readonly string[]): MemmonOptions {
  const options: MemmonOptions = {
    help: false,
    cumulative: false,
    programs: new Map(),
    groups: new Map(),
    sendmail: MEMMON_DEFAULT_SENDMAIL,
    written: { programs: new Map(), groups: new Map() },
  };
  const pairs: Array<[string, string | undefined, string]> = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new MemmonUsageError(`unexpected argument ${JSON.stringify(argv[i + 1])}`);
      break;
    }
    if (arg.startsWith('--')) {
      const [word = '', inline] = splitOnce(arg.slice(2), '=');
      const exact = LONG.find(([long]) => long === word);
      const candidates = exact ? [exact] : LONG.filter(([long]) => long.startsWith(word));
      const letters = new Set(candidates.map(([, letter]) => letter));
      if (word === '' || candidates.length === 0) throw new MemmonUsageError(`option --${word} not recognized`);
      if (letters.size > 1) throw new MemmonUsageError(`option --${word} not a unique prefix`);
      const [long, letter, takesValue] = candidates[0]!;
      if (!takesValue) {
        if (inline !== undefined) throw new MemmonUsageError(`option --${long} must not have an argument`);
        pairs.push([letter, undefined, `--${long}`]);
      } else if (inline !== undefined) pairs.push([letter, inline, `--${long}`]);
      else {
        if (i + 1 >= argv.length) throw new MemmonUsageError(`option --${long} requires argument`);
        pairs.push([letter, argv[++i], `--${long}`]);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j += 1) {
        const letter = arg[j]!;
        if (SHORT_FLAGS.has(letter)) pairs.push([letter, undefined, `-${letter}`]);
        else if (SHORT_WITH_VALUE.has(letter)) {
          const rest = arg.slice(j + 1);
          if (rest !== '') pairs.push([letter, rest, `-${letter}`]);
          else if (i + 1 < argv.length) pairs.push([letter, argv[++i], `-${letter}`]);
          else throw new MemmonUsageError(`option -${letter} requires argument`);
          break;
        } else throw new MemmonUsageError(`option -${letter} not recognized`);
      }
      continue;
    }
    throw new MemmonUsageError(`unexpected argument ${JSON.stringify(arg)}`);
  }

  for (const [letter, value = '', option] of pairs) {
    switch (letter) {
      case 'h':
        options.help = true;
        break;
      case 'c':
        options.cumulative = true;
        break;
      case 'p':
      case 'g': {
        const [name, size] = nameSize(option, value);
        (letter === 'p' ? options.programs : options.groups).set(name, size);
        (letter === 'p' ? options.written.programs : options.written.groups).set(name, value.slice(name.length + 1));
        break;
      }
      case 'a':
        options.any = size(option, value);
        options.written.any = value;
        break;
      case 's':
        options.sendmail = value;
        break;
      case 'm':
        options.email = value;
        break;
      case 'u': {
        const seconds = parseMemmonUptime(value);
        if (seconds === undefined) throw new MemmonUsageError(`Unparseable uptime ${JSON.stringify(value)} for ${option}: use seconds, or a number with s, m, h or d (e.g. 2d)`);
        options.uptime = seconds;
        options.written.uptime = value;
        break;
      }
      case 'n':
        options.name = value;
        break;
    }
  }
  return options;
}

/**
 * procguard's own `--listen ADDRESS` (or `--listen=ADDRESS`), taken off a memmon command line
 * where it stands as an option (not as the value of one, nor after --); the rest is left for
 * memmon's parser exactly as given. Only the whole word: memmon's long options have no
 * prefix in common with it.
 */
export function takeListenOption(argv: readonly string[]): { listen?: string; rest: string[] } {
  const rest: string[] = [];
  let listen: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--listen' || arg.startsWith('--listen=')) {
      if (listen !== undefined) throw new MemmonUsageError('option --listen given twice');
      if (arg !== '--listen') listen = arg.slice('--listen='.length);
      else if (i + 1 < argv.length) listen = argv[++i]!;
      else throw new MemmonUsageError('option --listen requires argument');
      continue;
    }
    rest.push(arg);
    if (consumesNext(arg) && i + 1 < argv.length) rest.push(argv[++i]!);
  }
  return { ...(listen !== undefined ? { listen } : {}), rest };
}

/** Whether memmon's parser takes the next argument as this option's value. */
function consumesNext(arg: string): boolean {
  if (arg.startsWith('--')) {
    const [word = '', inline] = splitOnce(arg.slice(2), '=');
    if (inline !== undefined || word === '') return false;
    const exact = LONG.find(([long]) => long === word);
    const candidates = exact ? [exact] : LONG.filter(([long]) => long.startsWith(word));
    return candidates.length > 0 && candidates.every(([, , takesValue]) => takesValue);
  }
  if (!arg.startsWith('-') || arg.length < 2) return false;
  for (let j = 1; j < arg.length; j += 1) {
    const letter = arg[j]!;
    if (SHORT_WITH_VALUE.has(letter)) return j === arg.length - 1;
    if (!SHORT_FLAGS.has(letter)) return false;
  }
  return false;
}

function nameSize(option: string, value: string): [string, number] {
  const parts = value.split('=');
  if (parts.length !== 2 || parts[0] === '') throw new MemmonUsageError(`Unparseable value ${JSON.stringify(value)} for ${option}: use NAME=SIZE, e.g. foo=200MB`);
  return [parts[0]!, size(option, parts[1]!)];
}

function size(option: string, value: string): number {
  const bytes = parseMemmonSize(value);
  if (bytes === undefined) throw new MemmonUsageError(`Unparseable byte_size in ${JSON.stringify(value)} for ${option}: use bytes, or a whole number with KB, MB or GB (1024-based), e.g. 200MB`);
  return bytes;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
