/**
 * npm start — broker up (reuse, Docker or jars), the schema registry up (unless SCHEMA_REGISTRY_URL names
 * one), topics created, then `serverless offline` on http://localhost:3000. Ctrl-C stops serverless
 * offline, and the broker and registry too if this command started them (pass `-- --keep-broker` to
 * leave them running for the next start). `-- --secure` runs it all against the
 * secured broker with a Secrets Manager emulator instead (./secure-mode); `-- --glue` keeps
 * order-analytics's Avro schema in an AWS Glue registry emulated by moto (./glue-mode).
 *
 * On a terminal the functions' JSON log lines are shown through pino-pretty, one readable line each;
 * the functions still write JSON, as on AWS (`-- --json` shows it as is).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { prettyFactory } from 'pino-pretty';
import { brokersOf } from '../broker/address';
import { BrokerError, down, up } from '../broker/broker';
import { downRegistry, upRegistry } from '../broker/registry';
import { loadConfig } from '../lib/config';
import { TOPIC_NAMES, topicName } from '../lib/kafka/topics';
import { createServiceTopics } from './create-topics';
import { startGlueMode, type GlueMode } from './glue-mode';
import { startSecureMode } from './secure-mode';

const ROOT = resolve(__dirname, '..');

/** What to try once serverless offline is up: both examples, and where to see what they did in Kafka. */
export function tryThis(env: NodeJS.ProcessEnv): string {
  const port = env.HTTP_PORT ?? '3000';
  const config = loadConfig({ ...env, KAFKA_BROKERS: brokersOf(env) });
  const events = topicName(config, TOPIC_NAMES.orderEvents);
  const ledger = topicName(config, TOPIC_NAMES.revenueLedger);
  return [
    `serverless offline is starting on http://localhost:${port}. Once it prints "kafka: ready", try:`,
    '',
    '  # an order: POST /orders → orders → fulfil-order (group order-workers) → order.fulfilled on order-events',
    `  curl -i -XPOST localhost:${port}/orders -H 'content-type: application/json' \\`,
    `    -d '{"customerId":"c-1","items":[{"sku":"book-1","quantity":2,"unitPriceCents":1250}]}'`,
    `  npm run kafka -- console-consumer --topic ${events} --from-beginning --property print.headers=true`,
    '  # its Avro leg: update-analytics → order-analytics (Avro, schema in the registry) → record-revenue → revenue-ledger',
    `  npm run kafka -- console-consumer --topic ${ledger} --from-beginning`,
    '',
    '  # a quote: POST /quotes → quote-requests → price-quote → quote-replies → the HTTP answer',
    `  curl -i -XPOST localhost:${port}/quotes -H 'content-type: application/json' \\`,
    `    -d '{"productId":"book-42","quantity":120}'`,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'keep-broker': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      // the secured broker (SASL_SSL, SCRAM-SHA-512) and Secrets Manager (moto) instead of the plain broker
      secure: { type: 'boolean', default: false },
      // order-analytics's schema in an AWS Glue registry (moto) instead of the Confluent-compatible one
      glue: { type: 'boolean', default: false },
    },
  });
  const say = (line: string) => process.stderr.write(`[start] ${line}\n`);
  const secure = values.secure
    ? await startSecureMode(process.env, say, { keepBroker: values['keep-broker'] })
    : undefined;
  const broker = secure ? undefined : await up();
  const brokerEnv: NodeJS.ProcessEnv = secure?.env ?? {
    ...process.env,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? broker!.address,
  };
  let code = 1;
  let registry: Awaited<ReturnType<typeof upRegistry>> | undefined;
  let glue: GlueMode | undefined;
  try {
    glue = values.glue ? await startGlueMode(brokerEnv, say) : undefined;
    const env = glue?.env ?? brokerEnv;
    // order-analytics is Avro: without SCHEMA_REGISTRY_URL the service uses a local registry (serverless.yml)
    if (!env.SCHEMA_REGISTRY_URL) registry = await upRegistry(say);
    if (!secure) await createServiceTopics(env);
    process.stderr.write(`\n[start] ${tryThis(env)}\n`);
    const pretty = Boolean(process.stdout.isTTY) && !values.json;
    const offline = spawn(
      process.execPath,
      [resolve(ROOT, 'node_modules/serverless/bin/serverless.js'), 'offline', 'start'],
      // serverless offline's own lines go to stderr; the functions' log lines come on stdout
      { cwd: ROOT, env, stdio: ['inherit', pretty ? 'pipe' : 'inherit', 'inherit'] },
    );
    if (pretty) {
      const prettify = prettyFactory({
        colorize: true,
        singleLine: true,
        translateTime: 'SYS:HH:MM:ss.l',
        // the same on every line of one service
        ignore: 'pid,hostname,service',
      });
      // a line that is not JSON comes back as it is
      createInterface({ input: offline.stdout! }).on('line', (line) => process.stdout.write(prettify(line)));
    }
    // Ctrl-C reaches serverless offline directly (same process group); wait for it to finish its shutdown
    const onSignal = () => undefined;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', () => offline.kill('SIGTERM'));
    code = await new Promise<number>((r) => offline.on('exit', (c, signal) => r(c ?? (signal ? 0 : 1))));
    process.off('SIGINT', onSignal);
  } finally {
    await glue?.stop();
    if (registry?.started && !values['keep-broker']) await downRegistry(say);
    await secure?.stop();
    if (broker?.started && !values['keep-broker']) await down();
  }
  return code;
}

if (require.main === module) {
  main()
    .then((code) => (process.exitCode = code))
    .catch((error: unknown) => {
      process.stderr.write(`[start] ${error instanceof BrokerError ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
