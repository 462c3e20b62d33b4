// The manual pages are written from the command definitions and the policy schema (npm run
// gen:man). These tests fail when a committed page is out of date, when a verb or option that
// --help shows, or a key of the schema, is missing from its page, when a key has no
// description, when a default written in the schema is not the one the code uses, or when man
// or groff warn about a page.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MAN_PAGES, type Schema } from '../../scripts/man-pages.js';
import { ACTING_DEFAULTS } from '../../src/policy/kinds/acting.js';
import { LOAD_DEFAULTS } from '../../src/policy/kinds/load.js';
import { MEMORY_DEFAULTS } from '../../src/policy/kinds/memory.js';
import { DEFAULTS } from '../../src/policy/model.js';
import { parseDuration } from '../../src/shared/units.js';
import { runProcguard } from '../helpers/run-cli.js';

const [commandPage, formatPage] = MAN_PAGES as [(typeof MAN_PAGES)[number], (typeof MAN_PAGES)[number]];
const schema = JSON.parse(readFileSync(new URL('../../schemas/policy.schema.json', import.meta.url), 'utf8')) as Schema;

/** The page as man shows it, in plain ASCII on a wide terminal (no overstrike, no hyphenation). */
function rendered(path: string): string {
  const run = spawnSync('man', ['-l', path], { encoding: 'utf8', env: { PATH: process.env.PATH, LC_ALL: 'C', MANWIDTH: '200', MANPAGER: 'cat', PAGER: 'cat' } });
  assert.equal(run.error, undefined, `man could not run (apt-get install man-db groff-base): ${String(run.error)}`);
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.replace(/.\x08/g, '');
}

/** The verbs `procguard --help` lists, and the sub-verbs of each. */
async function verbPaths(prefix: string[] = []): Promise<string[][]> {
  const run = await runProcguard([...prefix, '--help']);
  // import memmon hands --help to memmon's own parser, which refuses it: a verb with no sub-verbs.
  if (prefix.length > 1 && run.code !== 0) return [];
  assert.equal(run.code, 0, run.stderr);
  const commands = run.stdout.split('Commands:\n')[1] ?? '';
  const names = [...commands.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1]!).filter((name) => name !== 'help');
  const paths: string[][] = [];
  for (const name of names) paths.push([...prefix, name], ...(await verbPaths([...prefix, name])));
  return paths;
}

/** Every key named in a `properties` of the schema, wherever it sits. */
function schemaKeys(node: unknown, keys = new Map<string, Schema>()): Map<string, Schema> {
  if (Array.isArray(node)) for (const item of node) schemaKeys(item, keys);
  else if (node !== null && typeof node === 'object') {
    const properties = (node as Schema).properties;
    for (const [key, property] of Object.entries(properties ?? {})) keys.set(`${(node as Schema).title ?? ''}.${key}`, property);
    for (const child of Object.values(node)) schemaKeys(child, keys);
  }
  return keys;
}

describe('manual pages', () => {
  for (const page of MAN_PAGES) {
    it(`${page.file} is the one npm run gen:man writes from the current definitions`, () => {
      assert.equal(readFileSync(page.path, 'utf8'), page.render(), `${page.file} is out of date: run npm run gen:man`);
    });

    it(`${page.file} renders with man (UTF-8 and C locales) and groff without a warning`, () => {
      const man = spawnSync('man', ['--warnings', '-E', 'UTF-8', '-l', '-Tutf8', page.path], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8', MANROFFSEQ: '', MANWIDTH: '80' },
      });
      assert.equal(man.error, undefined, `man could not run: ${String(man.error)}`);
      assert.equal(man.status, 0, man.stderr);
      assert.equal(man.stderr, '');
      assert.ok(man.stdout.length > 1000, 'the page renders to text');
      // A root shell on a server often has no LANG: man then renders with groff's ASCII device.
      const ascii = spawnSync('man', ['--warnings', '-l', page.path], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, LC_ALL: 'C', MANROFFSEQ: '', MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' },
      });
      assert.equal(ascii.status, 0, ascii.stderr);
      assert.equal(ascii.stderr, '', 'in the C locale');
      const groff = spawnSync('groff', ['-ww', '-z', '-man', page.path], { encoding: 'utf8' });
      assert.equal(groff.error, undefined, `groff could not run: ${String(groff.error)}`);
      assert.equal(groff.status, 0, groff.stderr);
      assert.equal(groff.stderr, '');
    });
  }

  it('procguard(1) has every verb and every option that --help shows, under that verb', async () => {
    const text = rendered(commandPage.path);
    const sections = text.split(/\n {3}(?=procguard )/);
    const paths = await verbPaths();
    assert.ok(paths.length >= 14, `verbs found in --help: ${paths.map((path) => path.join(' ')).join(', ')}`);
    for (const path of paths) {
      const heading = `procguard ${path.join(' ')} `;
      const section = sections.find((each) => each.startsWith(heading) && each.split('\n')[0]!.length < 80);
      assert.ok(section, `no section "${heading}…" in ${commandPage.file}`);
      const help = await runProcguard([...path, '--help']);
      const options = (help.stdout.split('Options:\n')[1] ?? '').matchAll(/^ {2}(-[^ ,]+)(?:, (--[^ ]+))?/gm);
      for (const [, first, second] of options) {
        for (const flag of [first, second].filter(Boolean)) assert.match(section, new RegExp(`^ +(.*, )?${flag}\\b`, 'm'), `${heading}: ${flag} is not in ${commandPage.file}`);
      }
    }
    const top = text.split('\nOPTIONS\n')[1] ?? '';
    for (const flag of ['-V, --version', '-h, --help']) assert.ok(top.includes(flag), flag);
    for (const part of ['EXIT STATUS', 'ENVIRONMENT', 'FILES', 'EXAMPLES', '/usr/share/bash-completion/completions/procguard', '/usr/share/zsh/vendor-completions/_procguard']) {
      assert.ok(text.includes(part), `${commandPage.file} has ${part}`);
    }
  });

  it("procguard(1) lists memmon's own options, as procguard memmon -h prints them", async () => {
    const text = rendered(commandPage.path);
    const help = await runProcguard(['memmon', '-h']);
    for (const [flag] of help.stdout.matchAll(/(?<=^ {2,6}|, )--?[a-z_]+/gm)) assert.ok(text.includes(flag), `memmon ${flag}`);
  });

  it('procguard.yaml(5) has every key of the policy schema, each with a description', () => {
    const text = rendered(formatPage.path);
    const keys = schemaKeys(schema);
    assert.ok(keys.size > 50, `${keys.size} keys`);
    for (const [place, property] of keys) {
      const key = place.split('.').at(-1)!;
      assert.match(text, new RegExp(`^ {7}${key}: `, 'm'), `${place} is not in ${formatPage.file}`);
      const target = property.$ref === undefined ? undefined : schema.definitions?.[property.$ref.replace('#/definitions/', '')];
      const unitOnly = ['#/definitions/size', '#/definitions/duration'].includes(property.$ref ?? '');
      assert.ok(property.description ?? (unitOnly ? undefined : target?.description), `${place} has no description in schemas/policy.schema.json`);
    }
    assert.ok(text.includes('UNITS'));
  });

  it('the defaults the schema states are the ones procguard uses', () => {
    const definitions = schema.definitions!;
    const seconds = (value: unknown) => parseDuration(String(value));
    assert.equal(seconds(definitions.settings!.properties!.interval!.default), DEFAULTS.interval);
    assert.equal(definitions.settings!.properties!.state_dir!.default, DEFAULTS.stateDir);
    assert.equal(seconds(definitions.supervisor!.properties!.timeout!.default), DEFAULTS.supervisorTimeout);
    assert.equal(seconds(definitions.notifier!.properties!.timeout!.default), DEFAULTS.notifierTimeout);
    assert.equal(definitions.mail!.properties!.sendmail!.default, DEFAULTS.sendmail);
    assert.equal(definitions.mode!.default, DEFAULTS.mode);
    assert.equal(definitions.memoryPolicy!.properties!.scope!.default, MEMORY_DEFAULTS.scope);
    assert.equal(definitions.memoryPolicy!.properties!.for!.default, MEMORY_DEFAULTS.for);
    assert.equal(definitions.action!.default, ACTING_DEFAULTS.action);
    for (const kind of ['memoryPolicy', 'runtimePolicy']) assert.equal(seconds(definitions[kind]!.properties!.grace!.default), ACTING_DEFAULTS.grace);
    assert.equal(definitions.loadPolicy!.properties!.source!.default, LOAD_DEFAULTS.source);
    // average's default depends on the source: the description states both.
    const average = String(definitions.loadPolicy!.properties!.average!.description);
    assert.match(average, new RegExp(`\\(${LOAD_DEFAULTS.average}, the default`));
    assert.match(average, new RegExp(`\\(${LOAD_DEFAULTS.pressureAverage}, the default`));
  });
});
