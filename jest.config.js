/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  // diagnostics off: ts-jest transpiles each file alone (isolatedModules), which is fast; types are
  // checked once for the whole tree by `npm run typecheck` (tsc --noEmit), which .ci/run runs first.
  // Type-checking in every jest worker would redo that work per worker and per file.
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  moduleNameMapper: {
    '^@bridge/([^/]+)$': '<rootDir>/libs/$1/src',
    '^@bridge/([^/]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
  },
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/jest.setup.ts'],
  // The suite's Redis: REDIS_URL if it answers, else a private redis-server for the run.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
