// Lint: a small rule set, each rule catching a bug class this code base has or had.
// - no-floating-promises / no-misused-promises / await-thenable: a promise nobody awaits or
//   catches is a silent failure or an unhandled rejection (typed rules, via the TS project service).
// - no-unused-vars: dead code and stale imports.
// - consistent imports: one import per module; libs reached as @bridge/<lib>, never by a relative
//   path into another lib or a deep path; apps and libs never import test code.
// - unused eslint-disable comments are errors, so exceptions do not outlive their reason.
// Formatting is prettier's job (.prettierrc.json); no stylistic rules here.
import tseslint from 'typescript-eslint';

const unusedVars = [
  'error',
  { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.d.ts'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': unusedVars,
      'no-duplicate-imports': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/libs/*/src', '**/libs/*/src/*'], message: 'Import another lib as @bridge/<lib>.' },
            { group: ['@bridge/*/*'], message: 'Import @bridge/<lib> (its index), not a file inside it.' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/libs/*/src', '**/libs/*/src/*'], message: 'Import another lib as @bridge/<lib>.' },
            { group: ['@bridge/*/*'], message: 'Import @bridge/<lib> (its index), not a file inside it.' },
            {
              group: ['**/test/**', '../test/*', '../../test/*'],
              message: 'Apps and libs must not import test code; shared helpers live in @bridge/common.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['examples/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', setTimeout: 'readonly' },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: { 'no-unused-vars': unusedVars, 'no-undef': 'error', 'no-duplicate-imports': 'error' },
  },
);
