// ESLint for procguard: typescript-eslint's recommended rules, Prettier owns the layout, and the
// layers of src/ are enforced (a folder imports only from the folders below it; the engine does
// no I/O). The table of layers is LAYERS below; README.md explains it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import boundaries from 'eslint-plugin-boundaries';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';

// Each folder of src/ and the folders it may import from (besides itself), lowest layer first.
const LAYERS = {
  shared: [],
  data: ['shared'],
  policy: ['shared', 'data'],
  engine: ['shared', 'data', 'policy'],
  // Reading this host: /proc, ps, /etc/passwd, the time zone.
  host: ['shared', 'data'],
  supervisord: ['shared', 'data', 'policy', 'host'],
  collectors: ['shared', 'data', 'policy', 'host', 'supervisord'],
  actions: ['shared', 'data', 'policy', 'host', 'supervisord'],
  state: ['shared', 'data', 'policy', 'host'],
  import: ['shared', 'data', 'policy'],
  testing: ['shared', 'data', 'policy', 'engine', 'host'],
  modes: ['shared', 'data', 'policy', 'engine', 'host', 'supervisord', 'collectors', 'actions', 'state', 'import'],
  status: ['shared', 'data', 'policy', 'engine', 'host', 'supervisord', 'modes'],
  // `procguard hub`: many agents' status on one page; reuses the status page's server and words.
  hub: ['shared', 'data', 'policy', 'host', 'modes', 'status'],
  cli: ['shared', 'data', 'policy', 'engine', 'host', 'supervisord', 'collectors', 'actions', 'state', 'import', 'testing', 'modes', 'status', 'hub'],
  // Ambient declarations (.d.ts) may refer to anything.
  types: ['shared', 'data', 'policy', 'engine', 'host', 'supervisord', 'collectors', 'actions', 'state', 'import', 'testing', 'modes', 'status', 'hub', 'cli'],
};

// Modules that reach the host: the engine is pure and imports none of them (types are fine).
const IO_MODULES = ['fs', 'fs/promises', 'net', 'child_process', 'http', 'https', 'dgram', 'os'];
const IO_MODULE_NAMES = IO_MODULES.flatMap((name) => [name, `node:${name}`]);

export default tseslint.config(
  {
    ignores: ['dist/', 'bundle/', 'out/', 'node_modules/', 'test-artifacts/', '**/*.generated.ts'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      // A leading underscore marks a parameter or binding kept on purpose (an interface's
      // argument, a skipped tuple slot); a rest sibling drops keys from a copy.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Control characters in patterns are how terminal escapes and other unprintable bytes are
      // found and replaced before text reaches a log line or a terminal.
      'no-control-regex': 'off',
      // `l` is V8's linear-time regexp engine, which user patterns run on (src/policy/pattern.ts).
      'no-invalid-regexp': ['error', { allowConstructorFlags: ['l'] }],
    },
  },
  {
    // The three type-aware rules that catch lost promises: a rejection nobody awaits ends a
    // daemon that runs as root, or an action is reported done before it is. They cost a few
    // seconds (the TypeScript program is built once).
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: {
      globals: { ...globals.mocha },
    },
    rules: {
      // Tests read the JSON procguard prints and reach into it; its shape is what they assert.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The layers of src/. Tests, benchmarks and scripts may import anything.
    files: ['src/**/*.ts'],
    plugins: { boundaries, 'import-x': importX },
    settings: {
      // Imports are written with .js suffixes (NodeNext); the TypeScript resolver maps them to
      // the .ts sources. Without it they would not resolve and no boundary would be checked.
      'import/resolver': {
        typescript: { project: './tsconfig.json' },
      },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'boundaries/elements': [
        ...Object.keys(LAYERS).map((type) => ({ type, pattern: `src/${type}`, partialMatch: false })),
        { type: 'outside-src', pattern: '{test,bench,scripts,bin}', partialMatch: false },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: Object.entries(LAYERS).map(([type, below]) => ({
            from: { element: { type } },
            allow: { to: { element: { types: { anyOf: [type, ...below] } } } },
          })),
        },
      ],
      // Every file of src/ belongs to a layer, so a new folder has to be placed in LAYERS.
      'boundaries/no-unknown-files': 'error',
      'boundaries/no-unknown-dependencies': 'error',
      // The layers rule out cycles between folders; this also catches them inside a folder.
      // Type-only imports do not count: they vanish at run time.
      'import-x/no-cycle': 'error',
    },
  },
  {
    // The engine, and the kinds whose evaluation runs inside it, are pure.
    files: ['src/engine/**/*.ts', 'src/policy/kinds/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IO_MODULE_NAMES.map((name) => ({
            name,
            allowTypeImports: true,
            message: 'The engine is pure: I/O belongs to collectors, actions, state and modes.',
          })),
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'The engine is pure: take `now` as an argument.' },
        { object: 'process', property: 'env', message: 'The engine is pure: what it needs from the environment is an argument.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: IO_MODULE_NAMES.map((name) => `ImportExpression[source.value='${name}']`).join(', '),
          message: 'The engine is pure: I/O belongs to collectors, actions, state and modes.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'The engine is pure: take `now` as an argument.',
        },
      ],
    },
  },
  {
    // bin/ holds CommonJS scripts (bin/package.json): the executable requires the bundle's entry.
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
