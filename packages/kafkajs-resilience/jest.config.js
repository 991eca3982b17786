/** The package's unit tests (no broker). The repository's root jest config runs this project too. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: `${__dirname}/tsconfig.json`, diagnostics: false }] };

/** @type {import('jest').Config['projects']} */
const projects = [
  {
    displayName: 'kafkajs-resilience',
    rootDir: __dirname,
    testEnvironment: 'node',
    transform,
    testMatch: ['<rootDir>/test/**/*.test.ts'],
  },
];

/** @type {import('jest').Config} */
module.exports = { projects };
