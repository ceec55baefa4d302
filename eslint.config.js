// Lint: typescript-eslint's type-aware recommended rules over the product, tests, scripts and bench;
// formatting is prettier's job (eslint-config-prettier turns off the rules that would fight it).
// The layers of docs/architecture.md are kept by no-restricted-imports, from the LAYERS table below.
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * What each folder of src/ may import, besides its own files and src/errors.ts: the table "Who imports
 * whom" in docs/architecture.md (change both together). An entry is a folder of src/, or one file in
 * it (`docker/errors.ts`). Any other folder of src/ is refused, and so is a new folder until it is here.
 */
// prettier-ignore
const LAYERS = {
  // The library's face and the CLI reach everything through src/api/.
  index:      ['api', 'config', 'docker/errors.ts'],
  cli:        ['api', 'config', 'util'],
  api:        ['stages', 'engine', 'lab', 'patches', 'publish', 'artifacts', 'smoke', 'pins', 'chromium', 'standalone', 'distributed', 'docker', 'tools', 'config', 'process', 'util'],
  stages:     ['engine', 'patches', 'publish', 'artifacts', 'smoke', 'pins', 'chromium', 'standalone', 'distributed', 'tools', 'config', 'process', 'util'],
  // Domain: what the stages and the api use; never the stages, the engine, the api or the CLI.
  lab:        ['artifacts', 'smoke', 'config', 'process', 'util'],
  patches:    ['pins', 'chromium', 'tools', 'process', 'util'],
  pins:       ['chromium', 'tools', 'config', 'process', 'util'],
  publish:    ['artifacts', 'config', 'process', 'util'],
  artifacts:  ['process', 'util'],
  smoke:      ['artifacts', 'config', 'process', 'util'],
  chromium:   ['tools', 'config', 'process', 'util'],
  standalone: ['tools', 'config', 'process', 'util'],
  distributed: ['tools', 'config', 'process', 'util'],
  // `--docker` re-runs the CLI in a container and releases a dead container's run lock: it sits on the engine.
  docker:     ['engine', 'config', 'process', 'util'],
  // The generic engine, and the adapters and helpers under everything.
  engine:     ['process', 'util'],
  tools:      ['process', 'util'],
  process:    ['util'],
  config:     ['util'],
  util:       [],
  errors:     [],
};

const FOLDERS = readdirSync(new URL('src/', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const unlisted = FOLDERS.filter((folder) => !(folder in LAYERS));
if (unlisted.length)
  throw new Error(`eslint.config.js: add ${unlisted.map((f) => `src/${f}/`).join(', ')} to LAYERS (and to docs/architecture.md).`);

/** The no-restricted-imports patterns for one entry of LAYERS: every folder of src/ it may not reach. */
function layerPatterns(room) {
  const allowed = LAYERS[room];
  const own = room === 'index' || room === 'errors' ? [] : [room];
  const may = allowed.length ? `${allowed.map((a) => (a.includes('.') ? a : `${a}/`)).join(', ')} and errors.ts` : 'only errors.ts';
  return FOLDERS.filter((folder) => !own.includes(folder) && !allowed.includes(folder)).map((folder) => {
    const files = allowed.filter((a) => a.startsWith(`${folder}/`)).map((a) => a.slice(folder.length + 1).replace(/\.ts$/, '.js'));
    const except = files.length ? `(?!(${files.map((f) => f.replaceAll('.', '\\.')).join('|')})$)` : '';
    return {
      // A path segment naming the folder (relative specifiers: '../stages/context.js', './api/lab.js').
      regex: `(^|/)${folder}(/${except}|$)`,
      caseSensitive: true,
      message: `${room === 'index' || room === 'errors' ? `src/${room}.ts` : `src/${room}/`} may import ${may}, not ${folder}/ (docs/architecture.md, "Who imports whom"; the table is LAYERS in eslint.config.js).`,
    };
  });
}

/** Only src/process/ starts programs (logged, tracked by the run lock, stopped with their process group). */
const SUBPROCESS = ['execa', 'child_process', 'node:child_process'].map((name) => ({
  name,
  message: 'Start programs through src/process/exec.ts (in a stage: ctx.exec), or a typed function in src/tools/.',
}));

const layerRules = Object.keys(LAYERS).map((room) => ({
  files: room === 'index' || room === 'errors' ? [`src/${room}.ts`] : [`src/${room}/**/*.ts`],
  rules: { 'no-restricted-imports': ['error', { paths: room === 'process' ? [] : SUBPROCESS, patterns: layerPatterns(room) }] },
}));

export default tseslint.config(
  {
    ignores: [
      'lib/',
      'node_modules/',
      'cache/',
      'dist/',
      'coverage/',
      '.tmp/',
      'testkit/depot_tools/',
      'testkit/quiche/',
      'testkit/src/',
      '**/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A `let` read by closures declared before its one assignment (runCli's program) cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  ...layerRules,
  {
    // The test kit, the scripts and the bench stand on their own: test/ is the tests' business.
    files: ['testkit/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(^|/)test/', caseSensitive: true, message: 'Shared helpers live in testkit/ (test/ is for the tests).' }] },
      ],
    },
  },
  {
    // Tests inspect what they caught and parsed, and vitest's asymmetric matchers (expect.any,
    // expect.stringContaining) are typed `any`: the unsafe-any family would flag every such line.
    files: ['test/**/*.ts', 'testkit/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  prettier,
);
