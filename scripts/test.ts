/**
 * npm test — the whole check, as CI runs it: a broker (the one running at KAFKA_BROKERS, else one
 * started here and stopped at the end), cfn-lint installed into .cache/ (once), the workspace packages
 * (kafkajs-resilience, serverless-offline-kafka) built, then typecheck, lint, and the unit and integration tests of the service and the package.
 * Leaves nothing running that it did not find running. Extra arguments go to jest
 * (e.g. `npm test -- test/unit`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { down, up } from '../broker/broker';

const ROOT = resolve(__dirname, '..');
const bin = (name: string) => resolve(ROOT, 'node_modules', '.bin', name);
/** the workspace packages, in build order (serverless-offline-kafka depends on kafkajs-resilience) */
const PACKAGES = ['kafkajs-resilience', 'serverless-offline-kafka'];
type Step = [name: string, command: string, args: string[]];
export const JEST_RESULTS = resolve(ROOT, '.cache', 'jest-results.json');

function step(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): boolean {
  process.stderr.write(`\n[test] ${name}: ${[command.replace(`${ROOT}/`, ''), ...args].join(' ')}\n`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: ROOT, env, stdio: 'inherit' });
  const ok = result.status === 0;
  process.stderr.write(
    `[test] ${name} ${ok ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return ok;
}

async function main(): Promise<number> {
  const jestArgs = process.argv.slice(2);
  const started = Date.now();
  const broker = await up();
  const failed: string[] = [];
  let stopping = false;
  const stopBroker = async () => {
    if (stopping || !broker.started) return;
    stopping = true;
    await down();
  };
  process.on('SIGINT', () => void stopBroker().then(() => process.exit(130)));
  try {
    const env = { ...process.env, KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? broker.address };
    mkdirSync(resolve(ROOT, '.cache'), { recursive: true });
    const steps: Step[] = [
      // the CloudFormation linter the deploy tests run (Python, from PyPI, into .cache/; once)
      ['cfn-lint install', 'bash', [resolve(ROOT, 'scripts', 'install-cfn-lint.sh')]],
      // the workspace packages, loaded by their package names from their built output (packages/*/dist)
      ...PACKAGES.map((name): Step => [
        `build ${name}`,
        bin('tsc'),
        ['-p', resolve(ROOT, 'packages', name, 'tsconfig.build.json')],
      ]),
      ['typecheck', bin('tsc'), ['--noEmit']],
      ...PACKAGES.map((name): Step => [
        `typecheck ${name}`,
        bin('tsc'),
        ['--noEmit', '-p', resolve(ROOT, 'packages', name)],
      ]),
      ['lint', bin('eslint'), ['.']],
      ['format', bin('prettier'), ['--check', '.', '--log-level', 'warn']],
      // the architecture's import rules (.dependency-cruiser.cjs), known violations tolerated, new ones not
      ['dependency rules', 'npm', ['run', '--silent', 'depcruise']],
      ['jest', bin('jest'), ['--json', `--outputFile=${JEST_RESULTS}`, ...jestArgs]],
    ];
    for (const [name, command, args] of steps) if (!step(name, command, args, env)) failed.push(name);
  } finally {
    await stopBroker();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (failed.length === 0) process.stderr.write(`\n[test] all checks passed in ${seconds} s\n`);
  else process.stderr.write(`\n[test] FAILED: ${failed.join(', ')} (${seconds} s)\n`);
  return failed.length === 0 ? 0 : 1;
}

main()
  .then((code) => (process.exitCode = code))
  .catch((error: unknown) => {
    process.stderr.write(`[test] ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  });
