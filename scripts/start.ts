/**
 * npm start — broker up (reuse, Docker or jars), topics created, then `serverless offline` on
 * http://localhost:3000. Ctrl-C stops serverless offline, and the broker too if this command started it
 * (pass `-- --keep-broker` to leave it running for the next start).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BrokerError, down, up } from '../broker/broker';
import { createTopics } from './create-topics';

const ROOT = resolve(__dirname, '..');

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'keep-broker': { type: 'boolean', default: false } } });
  const broker = await up();
  const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? broker.address };
  let code = 1;
  try {
    await createTopics(env);
    const port = env.HTTP_PORT ?? '3000';
    process.stderr.write(
      [
        '',
        `[start] serverless offline is starting on http://localhost:${port}. Try:`,
        `  curl -i -XPOST localhost:${port}/orders -H 'content-type: application/json' \\`,
        `    -d '{"customerId":"c-1","items":[{"sku":"book-1","quantity":2,"unitPriceCents":1250}]}'`,
        '',
      ].join('\n') + '\n',
    );
    const offline = spawn(
      process.execPath,
      [resolve(ROOT, 'node_modules/serverless/bin/serverless.js'), 'offline', 'start'],
      {
        cwd: ROOT,
        env,
        stdio: 'inherit',
      },
    );
    // Ctrl-C reaches serverless offline directly (same process group); wait for it to finish its shutdown
    const onSignal = () => undefined;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', () => offline.kill('SIGTERM'));
    code = await new Promise<number>((r) => offline.on('exit', (c, signal) => r(c ?? (signal ? 0 : 1))));
    process.off('SIGINT', onSignal);
  } finally {
    if (broker.started && !values['keep-broker']) await down();
  }
  return code;
}

main()
  .then((code) => (process.exitCode = code))
  .catch((error: unknown) => {
    process.stderr.write(`[start] ${error instanceof BrokerError ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
