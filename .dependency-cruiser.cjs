/**
 * The architecture's import rules, checked by `npm run lint` and `npm test` (`npm run depcruise`).
 *
 * Layers, lowest first:
 *   lib/offline            the serverless-offline-kafka package: imports nothing of this repository
 *   lib/*.ts (foundation)  config, errors, logger, deadline, validation, money: no library, no wiring
 *   lib/<library>/         kafka, request-reply, http, orders, quotes: take their dependencies as
 *                          arguments; never the wiring layer (lib/runtime.ts), handlers or tools
 *   lib/runtime.ts,        the one wiring layer: the runtime (configuration, clients, topic names) and
 *   lib/handlers.ts        the four handler builders every function is made with
 *   functions/, deploy/, scripts/, bench/, broker/   handlers and tools
 *   test/                  may import anything; nothing imports it
 *
 * There are no known violations: any violation fails the check.
 */
const LIBRARIES = '^lib/(kafka|request-reply|http|orders|quotes)/';
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
      name: 'offline-package-is-self-contained',
      severity: 'error',
      comment:
        'serverless-offline-kafka is published on its own (lib/offline/package.json): it imports only itself and npm packages.',
      from: { path: '^lib/offline/' },
      to: { pathNot: '^lib/offline/', dependencyTypesNot: ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'core'] },
    },
    {
      name: 'nothing-imports-the-offline-sources',
      severity: 'error',
      comment:
        'The service uses the package by its name (serverless-offline-kafka), as any other service would; tests may share its test helpers.',
      from: { pathNot: '^lib/offline/' },
      to: { path: '^lib/offline/(src|dist)/' },
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
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.esbuild[^/]*|\\.serverless|\\.cache)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
