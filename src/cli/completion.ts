// `procguard completion bash|zsh`: completion scripts written from the command definitions
// (program.ts), so a verb or option added there completes without another edit. An option or
// argument that names a file or path completes file names, a directory directory names, one
// with choices its choices; memmon's options come from its own usage text (procguard memmon -h).

import type { Command, Option } from 'commander';
import { MEMMON_USAGE } from '../modes/memmon.js';

/** What a word completes to: nothing to offer, file names, directory names or fixed words. */
type ValueKind = { kind: 'none' } | { kind: 'file' } | { kind: 'directory' } | { kind: 'words'; words: string[] };

interface CompletedOption {
  /** Every spelling: -c, --config. */
  names: string[];
  description: string;
  /** Absent for a flag. */
  value?: ValueKind;
  repeatable: boolean;
}

interface CompletedCommand {
  /** The words that lead to it: [] for procguard itself, ['import', 'memmon']. */
  path: string[];
  description: string;
  options: CompletedOption[];
  commands: CompletedCommand[];
  /** What its positional arguments complete to. */
  operands: ValueKind;
}

export function completionScript(shell: 'bash' | 'zsh', program: Command): string {
  const root = describeCommand(program, []);
  return shell === 'bash' ? bashScript(root) : zshScript(root);
}

function describeCommand(command: Command, path: string[]): CompletedCommand {
  const help = command.createHelp();
  const memmon = path.at(-1) === 'memmon';
  const argument = command.registeredArguments[0];
  let operands: ValueKind = { kind: 'none' };
  if (argument?.argChoices) operands = { kind: 'words', words: [...argument.argChoices] };
  else if (argument && !memmon) operands = valueKind(argument.name());
  const commands = help.visibleCommands(command).map((sub) => describeCommand(sub, [...path, sub.name()]));
  // commander's own `help [command]` completes the verbs beside it.
  for (const sub of commands) {
    if (sub.path.at(-1) === 'help') sub.operands = { kind: 'words', words: commands.map((other) => other.path.at(-1)!).filter((name) => name !== 'help') };
  }
  return {
    path,
    description: oneLine(command.summary() || command.description()),
    // memmon passes its arguments through untouched; `procguard memmon` adds --listen.
    options: memmon ? memmonOptions(path.length === 1) : help.visibleOptions(command).map(describeOption),
    commands,
    operands,
  };
}

function describeOption(option: Option): CompletedOption {
  const names = [option.short, option.long].filter((name): name is string => name !== undefined);
  const argument = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  const value: ValueKind | undefined = argument === undefined ? undefined : option.argChoices ? { kind: 'words', words: [...option.argChoices] } : valueKind(argument);
  return { names, description: oneLine(option.description), ...(value ? { value } : {}), repeatable: Array.isArray(option.defaultValue) };
}

/** An argument's kind from its name in the definitions: <file>, <path>, [paths...], <dir>. */
function valueKind(name: string): ValueKind {
  const word = name.replace(/\.\.\.$/, '');
  if (/^(dir|directory|state-dir)s?$/.test(word)) return { kind: 'directory' };
  if (/^(file|path)s?$/.test(word)) return { kind: 'file' };
  return { kind: 'none' };
}

/** memmon's options as its usage text lists them: "  -p, --program NAME=SIZE   …". */
function memmonOptions(withListen: boolean): CompletedOption[] {
  const options: CompletedOption[] = [];
  const lines = MEMMON_USAGE.split('\n');
  for (const [index, line] of lines.entries()) {
    const match = /^ {2,6}(-[-\w, ]+?)(?: ([A-Z][A-Z_=]*))?(?: {2,}(.*))?$/.exec(line);
    if (!match) continue;
    const names = match[1]!.split(', ').map((name) => name.trim());
    if (!withListen && names.includes('--listen')) continue;
    const description = match[3] ?? lines[index + 1]?.trim() ?? '';
    options.push({ names, description: oneLine(description), ...(match[2] ? { value: { kind: 'none' } as const } : {}), repeatable: match[2] !== undefined && match[2].includes('=') });
  }
  return options;
}

function oneLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

function* walk(command: CompletedCommand): Generator<CompletedCommand> {
  yield command;
  for (const sub of command.commands) yield* walk(sub);
}

// ---- bash -------------------------------------------------------------------------------

function bashScript(root: CompletedCommand): string {
  const commands = [...walk(root)];
  const key = (command: CompletedCommand): string => command.path.join(' ');
  const caseArms = (select: (command: CompletedCommand) => string | undefined): string[] =>
    commands.flatMap((command) => {
      const body = select(command);
      return body === undefined ? [] : [`    ${bashWord(key(command))}) ${body} ;;`];
    });
  const valueOptions = commands.flatMap((command) => command.options.filter((option) => option.value).map((option) => ({ command, option })));
  return [
    '# bash completion for procguard, written by `procguard completion bash`.',
    '# Installed as /usr/share/bash-completion/completions/procguard; or source it from ~/.bashrc.',
    '',
    '_procguard_reply() {',
    '  # $1: none | file | directory | words; the rest: the words.',
    '  local kind=$1 cur=$2',
    '  shift 2',
    '  case $kind in',
    '    file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;',
    '    directory) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;',
    '    words) mapfile -t COMPREPLY < <(compgen -W "$*" -- "$cur") ;;',
    '    *) COMPREPLY=() ;;',
    '  esac',
    '}',
    '',
    '_procguard() {',
    '  local cur=${COMP_WORDS[COMP_CWORD]} command="" word i operands=0',
    '  COMPREPLY=()',
    '  # The verb (and sub-verb) so far; an option that takes a value skips its value.',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    word=${COMP_WORDS[i]}',
    // After --, options no longer complete; memmon's options come after it (import memmon -- -p …).
    `    if [[ $word == -- ]]; then case "$command" in ${commands
      .filter((command) => command.path.at(-1) === 'memmon')
      .map((command) => bashWord(key(command)))
      .join('|')}) ;; *) operands=1 ;; esac; continue; fi`,
    '    if [[ $word == -* && $operands == 0 ]]; then',
    '      case "$command:$word" in',
    ...valueOptions.map(({ command, option }) => `        ${bashPatterns(command, option)}) ((i++)) ;;`),
    '      esac',
    '      continue',
    '    fi',
    '    case "$command" in',
    ...caseArms((command) =>
      command.commands.length === 0 ? undefined : `case $word in ${command.commands.map((sub) => bashWord(sub.path.at(-1)!)).join('|')}) command=\${command:+$command }$word; continue ;; esac`,
    ),
    '    esac',
    '  done',
    '  local prev=${COMP_WORDS[COMP_CWORD-1]}',
    '  if ((COMP_CWORD > 1)) && [[ $prev == -* && $operands == 0 ]]; then',
    '    case "$command:$prev" in',
    ...valueOptions.map(({ command, option }) => `      ${bashPatterns(command, option)}) ${bashReply(option.value!)}; return ;;`),
    '    esac',
    '  fi',
    '  if [[ $cur == -* && $operands == 0 ]]; then',
    '    case "$command" in',
    ...caseArms((command) => bashReply({ kind: 'words', words: command.options.flatMap((option) => option.names) })),
    '    esac',
    '    return',
    '  fi',
    '  case "$command" in',
    ...caseArms((command) => bashReply(command.commands.length > 0 ? { kind: 'words', words: command.commands.map((sub) => sub.path.at(-1)!) } : command.operands)),
    '  esac',
    '}',
    '',
    'complete -F _procguard procguard',
    '',
  ].join('\n');
}

function bashReply(value: ValueKind): string {
  const words = value.kind === 'words' ? value.words.map(bashWord) : [];
  return ['_procguard_reply', value.kind, '"$cur"', ...words].join(' ');
}

/** A case pattern: quoted, so that "" (procguard itself) and names with '-' read as words. */
function bashWord(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** 'check:-c'|'check:--config': the option's spellings after its verb. */
function bashPatterns(command: CompletedCommand, option: CompletedOption): string {
  return option.names.map((name) => bashWord(`${command.path.join(' ')}:${name}`)).join('|');
}

// ---- zsh --------------------------------------------------------------------------------

function zshScript(root: CompletedCommand): string {
  const functions = [...walk(root)].map((command) => zshFunction(command));
  return [
    '#compdef procguard',
    '# zsh completion for procguard, written by `procguard completion zsh`.',
    '# Installed as /usr/share/zsh/vendor-completions/_procguard; or put it in a directory of $fpath.',
    '',
    ...functions,
    'if [[ $zsh_eval_context[-1] == loadautofunc ]]; then',
    '  _procguard "$@"',
    'else',
    '  compdef _procguard procguard',
    'fi',
    '',
  ].join('\n');
}

function zshFunctionName(command: CompletedCommand): string {
  return ['_procguard', ...command.path].join('__').replaceAll('-', '_');
}

function zshFunction(command: CompletedCommand): string {
  const specs = command.options.flatMap((option) => zshOptionSpecs(option, command.options));
  const lines = [`${zshFunctionName(command)}() {`];
  if (command.commands.length > 0) {
    const verbs = command.commands.map((sub) => `${zshEscape(sub.path.at(-1)!, ':')}\\:${zshQuoteInParens(sub.description)}`).join(' ');
    lines.push(
      '  local curcontext="$curcontext" state line ret=1',
      '  typeset -A opt_args',
      `${['  _arguments -C', ...specs, singleQuote(`1:command:((${verbs}))`), "'*::argument:->argument'"].join(' \\\n    ')} && ret=0`,
      '  if [[ $state == argument ]]; then',
      '    curcontext="${curcontext%:*:*}:procguard-$words[1]:"',
      '    case $words[1] in',
      ...command.commands.map((sub) => `      ${zshCaseWord(sub.path.at(-1)!)}) ${zshFunctionName(sub)} && ret=0 ;;`),
      '    esac',
      '  fi',
      '  return ret',
    );
  } else {
    const operand = command.operands.kind === 'none' ? [] : [singleQuote(`*:argument:${zshAction(command.operands)}`)];
    lines.push(['  _arguments -s -S', ...specs, ...operand].join(' \\\n    '));
  }
  lines.push('}', '');
  return lines.join('\n');
}

function zshOptionSpecs(option: CompletedOption, all: CompletedOption[]): string[] {
  const exclusion = option.repeatable ? '*' : all.length > 0 && option.names.length > 1 ? `(${option.names.join(' ')})` : '';
  const action = option.value ? `:${zshEscape(option.names.at(-1)!.replace(/^-+/, ''), ':')}:${zshAction(option.value)}` : '';
  const description = `[${zshEscape(option.description, '[]:')}]`;
  const isHelp = option.names.includes('--help') || option.names.includes('--version');
  return option.names.map((name) => {
    const suffix = option.value ? (name.startsWith('--') ? '=' : '+') : '';
    const prefix = isHelp ? '(- *)' : exclusion;
    return singleQuote(`${prefix}${name}${suffix}${description}${action}`);
  });
}

function zshAction(value: ValueKind): string {
  switch (value.kind) {
    case 'file':
      return '_files';
    case 'directory':
      return '_files -/';
    case 'words':
      return `(${value.words.map((word) => zshEscape(word, ' ()')).join(' ')})`;
    case 'none':
      return ' ';
  }
}

function zshQuoteInParens(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll(':', '\\:').replaceAll('$', '\\$').replaceAll('`', '\\`')}"`;
}

function zshCaseWord(word: string): string {
  return word.replace(/[^\w-]/g, (character) => `\\${character}`);
}

/** Backslash before each of `specials` (and before backslash itself). */
function zshEscape(text: string, specials: string): string {
  return [...text].map((character) => (character === '\\' || specials.includes(character) ? `\\${character}` : character)).join('');
}

function singleQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
