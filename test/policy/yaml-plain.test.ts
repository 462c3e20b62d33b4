// The fast path for plain YAML must read exactly what yaml's full parser reads: the same data,
// and every key and value at the same line and column, so a diagnostic points at the same place
// whichever path read the file. Whatever it does not take must go to the full path untouched.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { stringify } from 'yaml';
import { parseYamlDocument } from '../../src/policy/yaml-document.js';
import { depthOf, MAX_DEPTH } from '../../src/policy/yaml-plain.js';
import { loadFullYamlParser, locate, parseYamlFileSync, type PathSegment } from '../../src/policy/yaml-source.js';

await loadFullYamlParser();
import { validatePolicyFiles } from '../../src/policy/validate.js';

/** Every path into `data`: each value's, and one that leaves the data below each mapping and list. */
function pathsOf(data: unknown, base: PathSegment[] = []): PathSegment[][] {
  const paths: PathSegment[][] = [base];
  if (Array.isArray(data)) {
    data.forEach((item, index) => paths.push(...pathsOf(item, [...base, index])));
    paths.push([...base, data.length]);
  } else if (data !== null && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) paths.push(...pathsOf(value, [...base, key]));
    paths.push([...base, 'no-such-key']);
  }
  return paths;
}

function assertSameReading(text: string): boolean {
  const fast = parseYamlFileSync('p.yaml', text);
  const full = parseYamlDocument('p.yaml', text);
  assert.deepEqual(fast.diagnostics, full.diagnostics, text);
  assert.deepEqual(fast.file.data, full.file.data, text);
  for (const path of pathsOf(full.file.data)) {
    for (const target of ['value', 'key'] as const) {
      assert.deepEqual(locate(fast.file, path, target), locate(full.file, path, target), `${target} of ${JSON.stringify(path)} in:\n${text}`);
    }
  }
  return fast.file.document === undefined;
}

const scalarText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '12',
    '-3',
    '0x1F',
    '0o17',
    '1_000',
    '1e3',
    '.5',
    'true',
    'True',
    'no',
    'null',
    '~',
    '',
    ' lead',
    'trail ',
    'a: b',
    '#x',
    '- x',
    'x #y',
    "it's",
    'say "hi"',
    'two\nlines',
    'tab\there',
    'é',
    '200MB',
    '15%',
    '2026-01-01',
    '<<',
    '*a',
    '&b',
    '!t',
    '%x',
    '@x',
    '`x',
  ),
);
const keyText = fc.oneof(fc.constantFrom('name', 'kind', 'match', 'max_rss', 'a b', 'x:y', '-', "'q'", '"d"', 'é', 'for', '__proto__'), fc.string({ minLength: 1, maxLength: 8 }));
const scalar = fc.oneof(scalarText, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('mapping')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  mapping: fc.dictionary(keyText, tie('value'), { maxKeys: 5 }),
}));
const document = fc.oneof(fc.dictionary(keyText, value, { minKeys: 1, maxKeys: 6 }), fc.array(value, { minLength: 1, maxLength: 4 }));

const yamlOptions = fc.record({
  indent: fc.integer({ min: 2, max: 4 }),
  indentSeq: fc.boolean(),
  collectionStyle: fc.constantFrom('any', 'block', 'flow'),
  defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'),
  defaultKeyType: fc.constantFrom(null, 'PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'),
  lineWidth: fc.constantFrom(0, 20, 80),
  flowCollectionPadding: fc.boolean(),
});

describe('plain YAML read by the fast path', () => {
  it('reads the same data and positions as the full parser, over generated files written by yaml', () => {
    let taken = 0;
    let runs = 0;
    fc.assert(
      fc.property(document, yamlOptions, fc.boolean(), fc.boolean(), (data, options, emptyNulls, headerComments) => {
        runs += 1;
        let text = stringify(data, null, options as NonNullable<Parameters<typeof stringify>[2]>);
        // Empty values where yaml wrote null, and comments after block scalar headers.
        if (emptyNulls) text = text.replace(/: null(?=[,}\n]|$)/g, ':').replace(/^(\s*)- null$/gm, '$1-');
        if (headerComments) text = text.replace(/([|>][-+0-9]*)$/gm, '$1 # note');
        if (assertSameReading(text)) taken += 1;
      }),
      { numRuns: 400 },
    );
    // Most generated files are plain: the comparison above is about the fast path, not the fallback.
    assert.ok(taken > runs / 2, `the fast path read ${taken} of ${runs} files`);
  });

  it('reads the same data and positions as the full parser, over generated files written by js-yaml, with comments and blank lines', () => {
    let taken = 0;
    fc.assert(
      fc.property(document, fc.boolean(), fc.integer({ min: 1, max: 4 }), (data, flow, indent) => {
        const lines = dump(data, { indent, flowLevel: flow ? 1 : -1 }).split('\n');
        const commented = lines.flatMap((line, index) => (index % 3 === 1 ? ['# a comment', '', line] : [line])).join('\n');
        if (assertSameReading(commented)) taken += 1;
      }),
      { numRuns: 200 },
    );
    assert.ok(taken > 100, `the fast path read ${taken} of 200 files`);
  });

  it('reads lines broken or spaced by unusual characters as the full parser does, or leaves them to it', () => {
    const characters = { 'a lone CR': '\r', NEL: '\u0085', LS: '\u2028', PS: '\u2029', VT: '\u000b', FF: '\u000c', NBSP: '\u00a0', ZWSP: '\u200b', tab: '\t', BOM: '\ufeff' };
    for (const [name, c] of Object.entries(characters)) {
      for (const text of [`a: 1${c}b: 2\n`, `a: x${c}y\nb: 2\n`, `a: "x${c}y"\nb: 2\n`, `a:${c}1\nb: 2\n`, `${c}a: 1\nb: 2\n`, `a: 1\n${c}\nb: 2\n`, `a: |\n  x${c}y\nb: 2\n`, `a: 1 #${c}\nb: 2\n`]) {
        assert.doesNotThrow(() => assertSameReading(text), `${name} in ${JSON.stringify(text)}`);
      }
    }
    assert.notEqual(parseYamlFileSync('p.yaml', 'a: 1\rb: 2\n').file.document, undefined, 'a lone CR is left to the full parser');
  });

  it('reads the shipped and example policy files as the full parser does', () => {
    const directories = ['../../policies/', '../../examples/gitops/policies/'].map((dir) => fileURLToPath(new URL(dir, import.meta.url)));
    let count = 0;
    for (const dir of directories) {
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
        const text = readFileSync(`${dir}${name}`, 'utf8');
        assert.ok(assertSameReading(text), `${name} is plain YAML and should take the fast path`);
        count += 1;
      }
    }
    assert.ok(count >= 4, `${count} files read`);
  });

  const fullPathOnly: Array<[string, string]> = [
    ['an anchor and an alias', 'a: &x {b: 1}\nc: *x\n'],
    ['a merge key', 'a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n'],
    ['an inline merge key', 'c:\n  <<: {b: 1}\n  d: 2\n'],
    ['a quoted merge key', '"<<": 1\nname: x\n'],
    ['a tag', 'a: !!str 12\n'],
    ['an unknown tag', 'a: !custom x\n'],
    ['a duplicate key', 'a: 1\nb: 2\na: 3\n'],
    ['a duplicate key in a flow mapping', 'x: {a: 1, a: 2}\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['a YAML 1.1 directive', '%YAML 1.1\n---\na: yes\n'],
    ['a number as a key', '1: a\n'],
    ['true as a key', 'true: a\n'],
    ['a mapping as a key', '? {a: 1}\n: x\n'],
    ['a syntax error', 'a: [1, 2\n'],
    ['bad indentation', 'a:\n  - b\n - c\n'],
    ['an empty file', ''],
    ['comments alone', '# nothing here\n'],
    ['an alias without an anchor', 'a: *nowhere\n'],
  ];
  for (const [what, text] of fullPathOnly) {
    it(`leaves a file with ${what} to the full parser, which reports the same as before`, () => {
      const fast = parseYamlFileSync('p.yaml', text);
      assert.equal(fast.file.document !== undefined, true);
      const full = parseYamlDocument('p.yaml', text);
      assert.deepEqual(fast.diagnostics, full.diagnostics);
      assert.deepEqual(fast.file.data, full.file.data);
    });
  }

  it('leaves a file nested deeper than policy files may be to the full parser, which refuses it', () => {
    const text = `${'['.repeat(70)}${']'.repeat(70)}\n`;
    const { file, diagnostics } = parseYamlFileSync('p.yaml', text);
    assert.equal(file.document !== undefined, true);
    assert.match(diagnostics.map((d) => d.message).join('\n'), /nests too deeply/);
  });

  it('reads every plain scalar as the core schema does: numbers, null and booleans in each spelling, and text that only looks like them', () => {
    const spellings = ['0x1F', '0o17', '+12', '-0', '007', '.5', '5.', '1e3', '-1.5E-3', '.inf', '-.Inf', '+.INF', '.NaN', '.nan', '1_000', '12:30', '2026-01-01'];
    const words = ['~', 'null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off', 'nullx', 'truex', 'NaN', 'Infinity', 'x1', 'e5'];
    const text = [...spellings, ...words].map((word, i) => `k${i}: ${word}`).join('\n') + '\n';
    assert.ok(assertSameReading(text), 'the fast path reads them');
    const data = parseYamlFileSync('p.yaml', text).file.data as Record<string, unknown>;
    assert.deepEqual([data.k0, data.k4, data.k10, data.k17, data.k21, data.k27, data.k31, data.k33], [31, 7, -Infinity, null, true, 'yes', 'nullx', 'NaN']);
  });

  it('reads a file nested 64 deep, as deep as policy files may be, and leaves one 65 deep to the full parser', () => {
    const flow = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    const block = (depth: number): string => Array.from({ length: depth }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' leaf\n';
    for (const [shape, text] of [
      ['flow lists', flow],
      ['block mappings', block],
    ] as const) {
      const deepest = parseYamlFileSync('p.yaml', text(MAX_DEPTH));
      assert.equal(deepest.file.document, undefined, `${shape} ${MAX_DEPTH} deep take the fast path`);
      assert.deepEqual(deepest.diagnostics, []);
      assert.equal(depthOf(deepest.file.data), MAX_DEPTH);
      assert.deepEqual(deepest.file.data, parseYamlDocument('p.yaml', text(MAX_DEPTH)).file.data);
      const deeper = parseYamlFileSync('p.yaml', text(MAX_DEPTH + 1));
      assert.notEqual(deeper.file.document, undefined, `${shape} ${MAX_DEPTH + 1} deep go to the full parser`);
      assert.match(deeper.diagnostics.map((d) => d.message).join('\n'), /nests too deeply/);
    }
  });

  it('points a diagnostic at an empty value or a block scalar where the full parser does', () => {
    const text = 'policies:\n  - name: m\n    kind: memory\n    match:\n    max_rss: |\n      200MB\n';
    const fast = parseYamlFileSync('p.yaml', text);
    assert.equal(fast.file.document, undefined);
    const viaFast = validatePolicyFiles([fast.file], fast.diagnostics).diagnostics;
    const full = parseYamlDocument('p.yaml', text);
    const viaFull = validatePolicyFiles([full.file], full.diagnostics).diagnostics;
    assert.ok(viaFast.length > 0);
    assert.deepEqual(viaFast, viaFull);
  });

  it('keeps the data of a __proto__ key as data, as the full parser does', () => {
    const { file } = parseYamlFileSync('p.yaml', '__proto__: {polluted: 1}\nb: 2\n');
    assert.equal(file.document, undefined);
    assert.equal(Object.getPrototypeOf(file.data), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(file.data as object), ['__proto__', 'b']);
  });
});
