/**
 * npm test — the whole check, as CI runs it: a broker (the one running at KAFKA_BROKERS, else one
 * started here and stopped at the end), cfn-lint and moto installed and the schema registry built into
 * .cache/ (once) and run on 127.0.0.1:8081 for the service's Avro topic (unless one runs), the workspace packages
 * (kafkajs-resilience, serverless-offline-kafka) built, then typecheck, lint, and the unit and
 * integration tests of the service and the packages. Leaves nothing running that it did not find running.
 *
 * The broker and cfn-lint are set up while the static checks run, two at a time. Jest runs in two parts: the test files
 * that can share the machine, three at a time; then, one at a time, those that time things, stop a
 * broker or measure the CPU (SERIAL). Their results are merged into .cache/jest-results.json.
 * At the end it prints how long each step took and the ten slowest test files.
 *
 * Extra arguments go to a single jest run instead (e.g. `npm test -- test/unit`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { down, up } from '../broker/broker';
import { downRegistry, upRegistry } from '../broker/registry';

const ROOT = resolve(__dirname, '..');
const bin = (name: string) => resolve(ROOT, 'node_modules', '.bin', name);
const JEST_RESULTS = resolve(ROOT, '.cache', 'jest-results.json');
/** the workspace packages, in build order (serverless-offline-kafka depends on kafkajs-resilience) */
const PACKAGES = ['kafkajs-resilience', 'serverless-offline-kafka'];

/**
 * Test files that run alone: they measure time or CPU, kill or pause a broker or a process, or need a
 * cold start within a function's timeout, so a neighbour competing for the cores would change what
 * they see.
 */
export const SERIAL = [
  'test/integration/outage.test.ts',
  'test/integration/kafkajs-idle-timer.test.ts',
  'test/integration/request-reply/broker-restart.test.ts',
  'test/integration/request-reply/frozen-container.test.ts',
  'packages/serverless-offline-kafka/test/integration/http-timeout.test.ts',
];

type Step = [name: string, command: string, args: string[]];
const timings: { name: string; seconds: number; ok: boolean }[] = [];

async function timed<T>(name: string, work: () => Promise<T>, ok: (result: T) => boolean = () => true): Promise<T> {
  const started = Date.now();
  const result = await work();
  const seconds = (Date.now() - started) / 1000;
  timings.push({ name, seconds, ok: ok(result) });
  process.stderr.write(`[test] ${name} ${ok(result) ? 'passed' : 'FAILED'} in ${seconds.toFixed(1)} s\n`);
  return result;
}

/** Run one command, its output on this terminal; true when it exits 0. */
function run([name, command, args]: Step, env: NodeJS.ProcessEnv): Promise<boolean> {
  process.stderr.write(`\n[test] ${name}: ${[command.replace(`${ROOT}/`, ''), ...args].join(' ')}\n`);
  return timed(
    name,
    () =>
      new Promise<boolean>((done) => {
        const child = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit' });
        child.on('error', () => done(false));
        child.on('exit', (code) => done(code === 0));
      }),
    (passed) => passed,
  );
}

const escape = (path: string) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The jest runs: the user's arguments in one run, else the shared part (two workers) and the serial part. */
function jestRuns(jestArgs: string[]): { step: Step; output: string }[] {
  const output = (part: string) => resolve(ROOT, '.cache', `jest-${part}.json`);
  const jest = (name: string, part: string, args: string[]): { step: Step; output: string } => ({
    step: [name, bin('jest'), ['--json', `--outputFile=${output(part)}`, ...args]],
    output: output(part),
  });
  if (jestArgs.length > 0) return [jest('jest', 'all', jestArgs)];
  return [
    // three at a time on two cores: the files wait on the broker and on serverless offline much of the time
    jest('jest, three at a time', 'shared', ['--maxWorkers=3', '--testPathIgnorePatterns', ...SERIAL.map(escape)]),
    jest('jest, one at a time', 'serial', ['--runInBand', ...SERIAL.map(escape)]),
  ];
}

interface JestResults {
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  testResults: { name: string; startTime: number; endTime: number; status: string }[];
}

/** jest's JSON results of several runs as one (what .ci/run reads). */
export function mergeResults(parts: JestResults[]): JestResults {
  const sum = (key: keyof JestResults) => parts.reduce((n, p) => n + (p[key] as number), 0);
  return {
    success: parts.every((p) => p.success),
    numTotalTests: sum('numTotalTests'),
    numPassedTests: sum('numPassedTests'),
    numFailedTests: sum('numFailedTests'),
    numPendingTests: sum('numPendingTests'),
    numTodoTests: sum('numTodoTests'),
    numTotalTestSuites: sum('numTotalTestSuites'),
    numFailedTestSuites: sum('numFailedTestSuites'),
    testResults: parts.flatMap((p) => p.testResults),
  };
}

/** The ten slowest test files, one line each. */
export function slowestFiles(results: JestResults, count = 10): string[] {
  return results.testResults
    .map((t) => ({ file: relative(ROOT, t.name), seconds: (t.endTime - t.startTime) / 1000 }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count)
    .map((t) => `${t.seconds.toFixed(1).padStart(6)} s  ${t.file}`);
}

async function main(): Promise<number> {
  const jestArgs = process.argv.slice(2);
  const started = Date.now();
  mkdirSync(resolve(ROOT, '.cache'), { recursive: true });
  const failed: string[] = [];
  const env = { ...process.env };
  // set up while the static checks run: the broker, the CloudFormation linter the deploy tests run and
  // moto, the Secrets Manager the secured event source's tests read (Python, from PyPI, into .cache/; once)
  const brokerUp = timed('broker', () => up());
  brokerUp.catch(() => undefined);
  const cfnLint = run(['cfn-lint install', 'bash', [resolve(ROOT, 'scripts', 'install-cfn-lint.sh')]], env);
  // after cfn-lint, not beside it: two pip installs at once would take both cores from the checks
  const moto = cfnLint.then(() => run(['moto install', 'bash', [resolve(ROOT, 'scripts', 'install-moto.sh')]], env));
  // the schema registry the event source's registry tests start (Go, into .cache/; again when its sources change)
  const registry = moto.then(() =>
    run(['schema registry build', 'npm', ['run', '--silent', 'registry', '--', 'build']], env),
  );
  let broker: Awaited<typeof brokerUp> | undefined;
  let serviceRegistry: Awaited<ReturnType<typeof upRegistry>> | undefined;
  const sayRegistry = (line: string) => process.stderr.write(`[registry] ${line}\n`);
  let stopping = false;
  const stopBroker = async () => {
    if (stopping || !broker?.started) return;
    stopping = true;
    await down();
  };
  process.on('SIGINT', () => void stopBroker().then(() => process.exit(130)));
  try {
    // the workspace packages, loaded by their package names from their built output (packages/*/dist)
    for (const name of PACKAGES) {
      const build: Step = [`build ${name}`, bin('tsc'), ['-p', resolve(ROOT, 'packages', name, 'tsconfig.build.json')]];
      if (!(await run(build, env))) failed.push(build[0]);
    }
    const checks: Step[] = [
      ['typecheck', bin('tsc'), ['--noEmit']],
      ...PACKAGES.map((name): Step => [
        `typecheck ${name}`,
        bin('tsc'),
        ['--noEmit', '-p', resolve(ROOT, 'packages', name)],
      ]),
      ['lint', bin('eslint'), ['.']],
      ['format', bin('prettier'), ['--check', '.', '--log-level', 'warn']],
      // the architecture's import rules (.dependency-cruiser.cjs)
      ['dependency rules', 'npm', ['run', '--silent', 'depcruise']],
    ];
    // two at a time: each is one process, on one core
    const nextCheck = async (): Promise<void> => {
      for (let step = checks.shift(); step; step = checks.shift()) if (!(await run(step, env))) failed.push(step[0]);
    };
    await Promise.all([nextCheck(), nextCheck()]);
    if (!(await cfnLint)) failed.push('cfn-lint install');
    if (!(await moto)) failed.push('moto install');
    if (!(await registry)) failed.push('schema registry build');
    broker = await brokerUp;
    env.KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? broker.address;
    // the service's own registry (order-analytics is Avro), at the URL serverless.yml defaults to
    if (!env.SCHEMA_REGISTRY_URL) serviceRegistry = await upRegistry(sayRegistry);
    const runs = jestRuns(jestArgs);
    const parts: JestResults[] = [];
    for (const { step, output } of runs) {
      rmSync(output, { force: true });
      if (!(await run(step, env))) failed.push(step[0]);
      try {
        parts.push(JSON.parse(readFileSync(output, 'utf8')) as JestResults);
      } catch {
        // jest wrote no results (it could not start): counted as failed above
      }
    }
    const results = mergeResults(parts);
    writeFileSync(JEST_RESULTS, JSON.stringify(results));
    process.stderr.write(`\n[test] the ten slowest test files:\n${slowestFiles(results).join('\n')}\n`);
  } finally {
    if (serviceRegistry?.started) await downRegistry(sayRegistry);
    await stopBroker();
  }
  const steps = timings.map((t) => `${t.name} ${t.seconds.toFixed(1)} s${t.ok ? '' : ' (FAILED)'}`).join(', ');
  process.stderr.write(`[test] steps: ${steps}\n`);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (failed.length === 0) process.stderr.write(`\n[test] all checks passed in ${seconds} s\n`);
  else process.stderr.write(`\n[test] FAILED: ${failed.join(', ')} (${seconds} s)\n`);
  return failed.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main()
    .then((code) => (process.exitCode = code))
    .catch((error: unknown) => {
      process.stderr.write(`[test] ${(error as Error).message ?? String(error)}\n`);
      process.exitCode = 1;
    });
}
