// Lint: typescript-eslint's recommended rules, plus the architecture's one-way imports:
// libs/domain stays free of Nest, storage and validation libraries (ARCHITECTURE.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const forbiddenInDomain = [
  { group: ['@nestjs/*', 'better-sqlite3', '@eventstore/*', 'class-validator', 'class-transformer', 'fastify', '@fastify/*'], message: 'libs/domain is pure: no framework, storage or validation libraries.' },
  { group: ['@careledger/event-store', '@careledger/projections', '@careledger/ledger', '@careledger/testing', '../../*'], message: 'libs/domain imports no other project library.' },
  { group: ['node:fs', 'fs', 'node:net', 'node:http', 'node:child_process'], message: 'libs/domain does no I/O.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', 'test-artifacts/**', 'apps/api/src/dashboard/assets/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', AbortController: 'readonly', performance: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', document: 'readonly', window: 'readonly', sessionStorage: 'readonly', localStorage: 'readonly', location: 'readonly', history: 'readonly', FormData: 'readonly', HTMLElement: 'readonly', Event: 'readonly', customElements: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // type-aware rules: a promise nobody awaits or handles is a lost error (or a lost write)
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['**/*.spec.ts', 'apps/api/test/**/*.ts', 'bench/**/*.{js,ts}'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['libs/domain/src/**/*.ts'],
    ignores: ['libs/domain/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: forbiddenInDomain }],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'The domain never reads the clock: time arrives in the command metadata.' },
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'The domain never reads the clock: time arrives in the command metadata.' },
        { selector: "CallExpression[callee.object.name='performance'][callee.property.name='now']", message: 'The domain never reads the clock.' },
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Ids and randomness arrive as inputs.' }, { object: 'crypto', property: 'randomUUID', message: 'Ids arrive as inputs.' }],
    },
  },
);
