// `procguard completion bash|zsh`: the scripts complete in a real bash and a real zsh. bash runs
// the completion function as its completion machinery does (COMP_WORDS, COMP_CWORD); zsh is
// driven through a pseudo-terminal (zpty) and a real TAB, with compinit loading the script
// from $fpath as the package installs it. Needs Debian's zsh (apt-get install zsh).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcguard } from '../helpers/run-cli.js';

let dir: string;
let bashScript: string;
let zshScript: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procguard-completion-'));
  const bash = await runProcguard(['completion', 'bash']);
  assert.equal(bash.code, 0, bash.stderr);
  bashScript = join(dir, 'procguard.bash');
  writeFileSync(bashScript, bash.stdout);
  const zsh = await runProcguard(['completion', 'zsh']);
  assert.equal(zsh.code, 0, zsh.stderr);
  mkdirSync(join(dir, 'zsh'));
  zshScript = join(dir, 'zsh', '_procguard');
  writeFileSync(zshScript, zsh.stdout);
  // Files and directories for the file-name completions.
  mkdirSync(join(dir, 'files', 'states'), { recursive: true });
  writeFileSync(join(dir, 'files', 'snap.json'), '{}');
  writeFileSync(join(dir, 'files', 'policies.yaml'), '');
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** What bash offers for the command line `words` (the last one being completed). */
function bashComplete(...words: string[]): string[] {
  const script = [
    `source ${JSON.stringify(bashScript)}`,
    'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()',
    '"$(complete -p procguard | sed -E "s/.*-F ([^ ]+).*/\\1/")"',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', script, 'bash', ...words], { encoding: 'utf8', cwd: join(dir, 'files') });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  return run.stdout.split('\n').filter((line) => line !== '');
}

/** The option flags `procguard VERB --help` lists. */
async function helpFlags(verb: string): Promise<string[]> {
  const help = await runProcguard([verb, '--help']);
  return [...(help.stdout.split('Options:\n')[1] ?? '').matchAll(/^ {2}(-[^ ,]+)(?:, (--[^ ]+))?/gm)].flatMap(([, first, second]) => [first!, ...(second ? [second] : [])]);
}

describe('procguard completion', () => {
  it('the scripts run nothing when TAB is pressed: no procguard, no eval, no command substitution', async () => {
    for (const script of [bashScript, zshScript]) {
      const text = (await readFile(script, 'utf8')).replace(/^#.*$/gm, '');
      assert.doesNotMatch(text, /\$\(|\beval\b/, script);
      // The only process substitution is bash's own compgen, which lists names and runs nothing.
      for (const [substitution] of text.matchAll(/<\([^)]*/g)) assert.match(substitution, /^<\(compgen -[fdW] /, substitution);
      assert.doesNotMatch(text, /^\s*procguard\b/m);
    }
  });

  describe('bash', () => {
    it('registers a completion function for procguard', () => {
      const run = spawnSync('bash', ['--norc', '--noprofile', '-c', `source ${JSON.stringify(bashScript)}; complete -p procguard`], { encoding: 'utf8' });
      assert.match(run.stdout, /complete -F \S+ procguard/);
    });

    it('completes procguard val to validate', () => {
      assert.deepEqual(bashComplete('procguard', 'val'), ['validate']);
    });

    it('offers every verb --help lists, and bash or zsh after completion', async () => {
      const help = await runProcguard(['--help']);
      const verbs = [...(help.stdout.split('Commands:\n')[1] ?? '').matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1]!);
      assert.deepEqual(bashComplete('procguard', '').sort(), [...verbs].sort());
      assert.ok(verbs.includes('completion'));
      assert.deepEqual(bashComplete('procguard', 'completion', ''), ['bash', 'zsh']);
      assert.deepEqual(bashComplete('procguard', 'import', ''), ['memmon', 'oom-adjust', 'help']);
    });

    it("completes check's options, all that check --help lists", async () => {
      assert.deepEqual(bashComplete('procguard', 'check', '--sn'), ['--snapshot']);
      assert.deepEqual(bashComplete('procguard', 'check', '--').sort(), (await helpFlags('check')).filter((flag) => flag.startsWith('--')).sort());
      // After an option's value, options of the same verb still complete.
      assert.deepEqual(bashComplete('procguard', 'check', '-c', '/etc/procguard', '--verb'), ['--verbose']);
    });

    it('completes file names after an option that takes a file, directories after one that takes a directory', () => {
      assert.deepEqual(bashComplete('procguard', 'check', '--snapshot', 'sn'), ['snap.json']);
      assert.deepEqual(bashComplete('procguard', 'validate', '-c', 'pol'), ['policies.yaml']);
      assert.deepEqual(bashComplete('procguard', 'validate', 'pol'), ['policies.yaml']);
      assert.deepEqual(bashComplete('procguard', 'status', '--state-dir', ''), ['states']);
      assert.deepEqual(bashComplete('procguard', 'import', 'oom-adjust', 'pol'), ['policies.yaml']);
      // A duration is not a file name.
      assert.deepEqual(bashComplete('procguard', 'apply', '--wait', ''), []);
    });

    it("completes memmon's own options for memmon and import memmon", () => {
      assert.deepEqual(bashComplete('procguard', 'memmon', '--cu'), ['--cumulative']);
      assert.deepEqual(bashComplete('procguard', 'memmon', '-p', 'web=200MB', '--li'), ['--listen']);
      assert.deepEqual(bashComplete('procguard', 'import', 'memmon', '--', '--em'), ['--email']);
      assert.deepEqual(bashComplete('procguard', 'validate', '--', '--js'), []);
      assert.deepEqual(bashComplete('procguard', 'import', 'memmon', '--em'), ['--email']);
    });
  });

  describe('zsh', () => {
    /** Types each line and a TAB into an interactive zsh that loaded _procguard from $fpath; returns each line as completed (words joined by one space). */
    function zshComplete(lines: string[]): string[] {
      const driver = [
        'zmodload zsh/zpty',
        "zpty -b pg 'TERM=dumb zsh -f -i'",
        `zpty -w pg ${shellQuote(`PS1='> '; bindkey -e; fpath=(${join(dir, 'zsh')} $fpath); autoload -Uz compinit; compinit -u -D; cd ${join(dir, 'files')}; print \${:-REA}DY`)}`,
        "zpty -r -m pg out '*READY*> '",
        ...lines.flatMap((line) => [
          // The completed line is printed back after a marker the echo of the typed text does not
          // hold; each read waits for the next prompt, so no step depends on the machine's speed.
          `zpty -w -n pg ${shellQuote(line)}$'\\t'`,
          `zpty -w pg $'\\C-aprint -r -- \${:-RES}ULT:'`,
          `zpty -r -m pg out '*RESULT:*> '`,
          `print -r -- "\${\${out##*RESULT:}%%$'\\r'*}"`,
        ]),
        'zpty -d pg',
      ].join('\n');
      // A bounded wait, so that a broken script fails the test instead of hanging it. The emacs
      // key map is chosen outright: zsh picks vi's when EDITOR names vi, as npm sets it.
      const run = spawnSync('zsh', ['-f', '-c', driver], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, HOME: dir, LC_ALL: 'C.UTF-8' } });
      assert.equal(run.error, undefined, `zsh could not run (apt-get install zsh): ${String(run.error)}`);
      assert.equal(run.status, 0, run.stderr);
      return run.stdout.split('\n').slice(0, lines.length);
    }

    it('the script is valid zsh', () => {
      const run = spawnSync('zsh', ['-n', zshScript], { encoding: 'utf8' });
      assert.equal(run.error, undefined, `zsh could not run (apt-get install zsh): ${String(run.error)}`);
      assert.equal(run.status, 0, run.stderr);
    });

    it('a TAB completes verbs, options, choices and file names', () => {
      assert.deepEqual(
        zshComplete(['procguard val', 'procguard check --sn', 'procguard check --verb', 'procguard completion z', 'procguard import oom', 'procguard check --snapshot sn', 'procguard memmon --cumu']),
        [
          'procguard validate',
          'procguard check --snapshot',
          'procguard check --verbose',
          'procguard completion zsh',
          'procguard import oom-adjust',
          'procguard check --snapshot snap.json',
          'procguard memmon --cumulative',
        ],
      );
    });
  });
});

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
