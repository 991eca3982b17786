/**
 * The service's tests, `unit` (no broker) and `integration` (a real Kafka broker and, where needed,
 * serverless offline), plus the workspace packages' own projects (packages/serverless-offline-kafka,
 * packages/kafkajs-resilience).
 */
const offlineKafka = require('./packages/serverless-offline-kafka/jest.config.js');
const resilience = require('./packages/kafkajs-resilience/jest.config.js');

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
      setupFilesAfterEnv: ['<rootDir>/packages/serverless-offline-kafka/test/helpers/integration-setup.ts'],
      slowTestThreshold: 30,
    },
    ...offlineKafka.projects,
    ...resilience.projects,
  ],
};
