/**
 * The architecture's import rules, checked by `npm run lint` and `npm test` (`npm run depcruise`).
 *
 * Layers, lowest first:
 *   packages/kafkajs-resilience        the kafkajs fixes and the outage tracker, shared by the deployed
 *                                      functions and the local plugin: imports nothing of this repository
 *   packages/serverless-offline-kafka  the local event source plugin: imports only itself and npm packages
 *   lib/*.ts (foundation)  config, errors, logger, deadline, validation, money: no library, no wiring
 *   lib/<library>/         kafka, request-reply, http, orders, quotes, schema-registry: take their dependencies as
 *                          arguments; never the wiring layer (lib/runtime.ts), handlers or tools
 *   lib/runtime.ts,        the one wiring layer: the runtime (configuration, clients, topic names) and
 *   lib/handlers.ts        the four handler builders every function is made with
 *   functions/, deploy/, scripts/, bench/, broker/   handlers and tools
 *   test/                  may import anything; nothing imports it
 *
 * What ships to Lambda (lib/, functions/) depends on production dependencies only: never on a
 * devDependency such as serverless-offline-kafka, whose purpose is local emulation.
 *
 * There are no known violations: any violation fails the check.
 */
const LIBRARIES = '^lib/(kafka|request-reply|http|orders|quotes|schema-registry)/';
const FOUNDATION = '^lib/(config|errors|logger|deadline|validation|money|aws-patterns)\\.ts$';
const ABOVE_LIBRARIES = '^(lib/(runtime|handlers)\\.ts$|functions/|deploy/|scripts/|bench/|broker/|test/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes both modules one: neither can be understood, tested or moved alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'packages-are-self-contained',
      severity: 'error',
      comment:
        'Each workspace package is published on its own (packages/<name>/package.json): it imports only itself and npm packages.',
      from: { path: '^packages/([^/]+)/' },
      to: { pathNot: '^packages/$1/', dependencyTypesNot: ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'core'] },
    },
    {
      name: 'packages-are-used-by-name',
      severity: 'error',
      comment:
        'The service uses a workspace package by its name (serverless-offline-kafka, kafkajs-resilience), as any other service would; tests may share its test helpers.',
      from: { pathNot: '^packages/' },
      to: { path: '^packages/[^/]+/(src|dist)/' },
    },
    {
      name: 'shipped-code-uses-production-dependencies',
      severity: 'error',
      comment:
        'lib/ and functions/ are bundled into the Lambda functions: they never import a devDependency (serverless-offline-kafka, test and build tools); type-only imports, which the bundler erases, excepted.',
      from: { path: '^(lib|functions)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'libraries-do-not-reach-up',
      severity: 'error',
      comment:
        'A library takes what it uses as arguments; it never builds its own dependencies (lib/runtime.ts, lib/handlers.ts) or imports handlers and tools.',
      from: { path: LIBRARIES },
      to: { path: ABOVE_LIBRARIES },
    },
    {
      name: 'foundation-imports-no-library',
      severity: 'error',
      comment: 'config, errors, logger and the small helpers sit below every library (JSON data files excepted).',
      from: { path: FOUNDATION },
      to: { path: `${LIBRARIES}|${ABOVE_LIBRARIES}`, pathNot: '\\.json$' },
    },
    {
      name: 'nothing-imports-tests',
      severity: 'error',
      comment: 'Shipped code (the service, its deploy and its tools) never depends on test code; benchmarks may.',
      from: { path: '^(lib|functions|deploy|scripts|broker)/', pathNot: '(^|/)test/' },
      to: { path: '(^|/)test/' },
    },
    {
      name: 'nothing-imports-handlers',
      severity: 'error',
      comment: 'A handler is an entry point; what another module needs from it belongs in lib/.',
      from: { pathNot: '(^|/)test/' },
      to: { path: '^functions/' },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)(node_modules|dist)/' },
    exclude: { path: '(^|/)(\\.esbuild[^/]*|\\.serverless|\\.cache)/' },
    // a workspace package resolves as node_modules/<name> (an npm dependency), not as its folder
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
