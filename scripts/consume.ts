/**
 * npm run consume -- <topic> [--from-beginning] [--max N] [--timeout SECONDS]
 * A console consumer for the local broker (the jar broker has no Kafka CLI tools): prints one JSON line
 * per record with partition, offset, key, headers and value. Reads with a throw-away group and commits
 * nothing, so it never disturbs the functions' consumer groups.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

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
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const kafka = new Kafka({ clientId: 'console-consumer', brokers, logLevel: logLevel.ERROR });
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
