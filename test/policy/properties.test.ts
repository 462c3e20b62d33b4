// Whatever an operator (or an editor crash) puts in a policy file, validation answers
// with diagnostics: never an exception, never a stack trace, never a hang.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { formatDiagnostic, type Diagnostic } from '../../src/policy/diagnostics.js';
import { validatePolicyFiles } from '../../src/policy/validate.js';
import { loadFullYamlParser, parseYamlFileSync } from '../../src/policy/yaml-source.js';

await loadFullYamlParser();

const EXAMPLES = fileURLToPath(new URL('../../examples/gitops/policies/', import.meta.url));
const VALID_FILES = readdirSync(EXAMPLES)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => readFileSync(`${EXAMPLES}${name}`, 'utf8'));

function validateText(text: string, name = 'p.yaml'): Diagnostic[] {
  const { file, diagnostics } = parseYamlFileSync(name, text);
  return validatePolicyFiles([file], diagnostics).diagnostics;
}

function assertWellFormed(diagnostics: Diagnostic[], text: string): void {
  const lineCount = text.split('\n').length;
  for (const d of diagnostics) {
    assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= lineCount + 1, `line ${d.line} in ${lineCount} lines`);
    assert.ok(Number.isInteger(d.column) && d.column >= 1, `column ${d.column}`);
    assert.ok(d.severity === 'error' || d.severity === 'warning');
    assert.ok(d.message.length > 0);
    const line = formatDiagnostic(d);
    assert.ok(!line.includes('\n'), 'one line per diagnostic');
    assert.doesNotMatch(line, /\n\s+at |TypeError|ReferenceError|undefined is not|Cannot read properties/);
  }
}

const yamlishChar = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyz_-:{}[],&*!|>#\'"% @`?\n\n  \t0123456789.'.split(''),
  'policies',
  'kind',
  'match',
  'memory',
  'max_rss',
  '<<',
  '---',
  '\u00e9',
  '\ufeff',
  '\u0000',
  '\r',
);

/** A JSON-like value whose keys are often the ones procguard knows. */
const knownKey = fc.constantFrom(
  'settings',
  'supervisors',
  'notifiers',
  'policies',
  'name',
  'kind',
  'match',
  'max_rss',
  'exclude',
  'notify',
  'to',
  'mail',
  'exec',
  'url',
  'scope',
  'action',
  'signal',
  'oom_adj',
  'pause_above',
);
const anyKey = fc.oneof(knownKey, fc.string({ maxLength: 8 }));

/** Random edits of parsed data: drop, replace or add keys and items anywhere in the tree. */
function mutationArbitrary(): fc.Arbitrary<{ path: number[]; edit: 'drop' | 'replace' | 'add'; key: string; value: unknown }> {
  return fc.record({
    path: fc.array(fc.nat(), { maxLength: 6 }),
    edit: fc.constantFrom('drop' as const, 'replace' as const, 'add' as const),
    key: anyKey,
    value: fc.jsonValue({ maxDepth: 3 }),
  });
}

function applyMutation(root: unknown, m: { path: number[]; edit: 'drop' | 'replace' | 'add'; key: string; value: unknown }): unknown {
  const copy = structuredClone(root);
  let node: unknown = copy;
  for (const step of m.path) {
    const children = node !== null && typeof node === 'object' ? Object.keys(node as object) : [];
    if (children.length === 0) break;
    const key = children[step % children.length] as string;
    const child = (node as Record<string, unknown>)[key];
    if (child === null || typeof child !== 'object') {
      if (m.edit === 'drop') delete (node as Record<string, unknown>)[key];
      else (node as Record<string, unknown>)[key] = m.value;
      return copy;
    }
    node = child;
  }
  if (node === null || typeof node !== 'object') return m.value;
  if (Array.isArray(node)) {
    if (m.edit === 'add') node.push(m.value);
    else if (m.edit === 'drop') node.pop();
    else node[0] = m.value;
  } else {
    const record = node as Record<string, unknown>;
    if (m.edit === 'drop') delete record[Object.keys(record)[0] ?? ''];
    else record[m.key] = m.value;
  }
  return copy;
}

describe('validation never fails on any input (properties)', () => {
  it('random YAML-like text', () => {
    fc.assert(
      fc.property(
        fc.array(yamlishChar, { maxLength: 300 }).map((chars) => chars.join('')),
        (text) => {
          assertWellFormed(validateText(text), text);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('random Unicode text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        assertWellFormed(validateText(text), text);
      }),
      { numRuns: 300 },
    );
  });

  it('random data with the keys procguard knows, written as YAML', () => {
    const tree = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.dictionary(anyKey, tie('value'), { maxKeys: 4 }), fc.array(tie('value'), { maxLength: 3 })),
    })).value;
    fc.assert(
      fc.property(fc.dictionary(knownKey, tree, { maxKeys: 4 }), (data) => {
        const text = stringify(data);
        assertWellFormed(validateText(text), text);
      }),
      { numRuns: 300 },
    );
  });

  it('random edits of the data of valid example files', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VALID_FILES), fc.array(mutationArbitrary(), { minLength: 1, maxLength: 4 }), (text, mutations) => {
        const mutated = mutations.reduce(applyMutation, parse(text) as unknown);
        const out = stringify(mutated);
        assertWellFormed(validateText(out), out);
      }),
      { numRuns: 400 },
    );
  });

  it('random edits of the text of valid example files', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_FILES),
        fc.array(fc.record({ at: fc.nat(), remove: fc.nat({ max: 5 }), insert: fc.array(yamlishChar, { maxLength: 6 }) }), { minLength: 1, maxLength: 5 }),
        (text, edits) => {
          let out = text;
          for (const edit of edits) {
            const at = edit.at % (out.length + 1);
            out = out.slice(0, at) + edit.insert.join('') + out.slice(at + edit.remove);
          }
          assertWellFormed(validateText(out), out);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('YAML alias bombs of any shape are refused with one error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 4, max: 30 }), (depth, width) => {
        const lines = [`l0: &l0 [${Array(width).fill('lol').join(', ')}]`];
        for (let level = 1; level < depth; level += 1) {
          lines.push(
            `l${level}: &l${level} [${Array(width)
              .fill(`*l${level - 1}`)
              .join(', ')}]`,
          );
        }
        const text = `${lines.join('\n')}\n`;
        const diagnostics = validateText(text);
        assertWellFormed(diagnostics, text);
        assert.ok(diagnostics.some((d) => d.severity === 'error'));
      }),
      { numRuns: 60 },
    );
  });

  it('the billion laughs file', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
      ['g', 'f'],
      ['h', 'g'],
      ['i', 'h'],
    ]) {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const diagnostics = validateText(`${lines.join('\n')}\n`);
    assert.deepEqual(diagnostics.map(formatDiagnostic), ['p.yaml:1:1: error: YAML aliases expand too far (more than 100 times); write the values out or use fewer nested aliases']);
  });
});

describe('deeply nested files', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['nested flow lists far beyond the parser', `policies: ${'['.repeat(5000)}${']'.repeat(5000)}`, /YAML: the file nests too deeply \(at most 64 levels\)/],
    ['nested flow mappings', `${'{a: '.repeat(5000)}1${'}'.repeat(5000)}`, /YAML: the file nests too deeply/],
    [
      'nested excludes the parser accepts',
      `policies:\n  - { name: a, kind: oom, oom_score_adj: 0, match: ${'{ name: x, exclude: '.repeat(200)}{ name: y }${' }'.repeat(200)} }\n`,
      /The file nests too deeply \(more than 64 levels/,
    ],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => {
      const diagnostics = validateText(text);
      assertWellFormed(diagnostics, text);
      assert.match(diagnostics.map(formatDiagnostic).join('\n'), expected);
      assert.ok(diagnostics.length <= 21, `${diagnostics.length} diagnostics`);
    });
  }
});
