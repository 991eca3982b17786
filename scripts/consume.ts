/**
 * npm run consume -- <topic> [--from-beginning] [--max N] [--timeout SECONDS]
 * Prints one JSON line per record with partition, offset, key, headers and value (Kafka's own
 * console consumer is there too: `npm run kafka -- console-consumer`). Connects like the functions do
 * (KAFKA_BROKERS and the KAFKA_AUTH / TLS settings of lib/config.ts), reads with a throw-away group and
 * commits nothing, so it never disturbs the functions' consumer groups.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { brokersOf } from '../broker/address';
import { loadConfig } from '../lib/config';
import { createKafka } from '../lib/kafka/client';
import { createLogger } from '../lib/logger';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'from-beginning': { type: 'boolean', default: false },
      max: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  const [topic] = positionals;
  if (!topic) throw new Error('usage: npm run consume -- <topic> [--from-beginning] [--max N] [--timeout SECONDS]');
  const max = values.max ? Number(values.max) : Infinity;
  const config = loadConfig({ ...process.env, KAFKA_BROKERS: brokersOf() });
  const kafka = createKafka({
    config,
    logger: createLogger({ level: 'error' }),
    overrides: { clientId: 'console-consumer' },
  });
  const brokers = config.kafka.brokers;
  const consumer = kafka.consumer({ groupId: `console-consumer-${randomUUID()}` });
  let seen = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  process.once('SIGINT', finish);
  if (values.timeout) setTimeout(finish, Number(values.timeout) * 1000).unref();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: values['from-beginning'] });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (seen >= max) return;
      seen += 1;
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
      );
      console.log(
        JSON.stringify({
          partition,
          offset: message.offset,
          timestamp: new Date(Number(message.timestamp)).toISOString(),
          key: message.key?.toString() ?? null,
          headers,
          value: message.value?.toString() ?? null,
        }),
      );
      if (seen >= max) finish();
    },
  });
  process.stderr.write(`[consume] reading ${topic} on ${brokers.join(',')}; Ctrl-C to stop\n`);
  await done;
  await consumer.disconnect();
}

main().catch((error: unknown) => {
  process.stderr.write(`[consume] ${(error as Error).message}\n`);
  process.exitCode = 1;
});
