/**
 * The service's tests, `unit` (no broker) and `integration` (a real Kafka broker and, where needed,
 * serverless offline), plus the serverless-offline-kafka package's own projects (lib/offline).
 */
const offlineKafka = require('./lib/offline/jest.config.js');

const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  // middy 6 ships ES modules only; jest runs CommonJS, so its files are compiled like ours
  '^.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, diagnostics: false }],
};
const transformIgnorePatterns = ['/node_modules/(?!@middy/)'];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/lib/offline/test/helpers/integration-setup.ts'],
      slowTestThreshold: 30,
    },
    ...offlineKafka.projects,
  ],
};
