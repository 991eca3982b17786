/**
 * The package's tests: `unit` (no broker) and `integration` (a real Kafka broker at KAFKA_BROKERS, default
 * 127.0.0.1:9092, and serverless offline running the fixture services in test/fixtures against the built
 * plugin, loaded by its package name). The repository's root jest config runs these projects too.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: `${__dirname}/tsconfig.json`, diagnostics: false }] };

/** @type {import('jest').Config['projects']} */
const projects = [
  {
    displayName: 'offline-kafka:unit',
    rootDir: __dirname,
    testEnvironment: 'node',
    transform,
    testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
  },
  {
    displayName: 'offline-kafka:integration',
    rootDir: __dirname,
    testEnvironment: 'node',
    transform,
    testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    setupFilesAfterEnv: ['<rootDir>/test/helpers/integration-setup.ts'],
    slowTestThreshold: 30,
  },
];

/** @type {import('jest').Config} */
module.exports = { projects };
