import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type IHeaders, type KafkaMessage } from 'kafkajs';
import { createTopics } from 'kafkajs-resilience';

/** The broker the integration tests use: KAFKA_BROKERS (set by `npm test`), else the local default. */
export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

export function testKafka(clientId = 'test'): Kafka {
  return new Kafka({ clientId, brokers: BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 3 } });
}

/** A name no other test (or earlier run) uses: tests never share topics or groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka('test-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopic(name: string, partitions = 1, config: Record<string, string> = {}): Promise<void> {
  await withAdmin(async (admin) => {
    await createTopics(
      admin,
      [
        {
          topic: name,
          numPartitions: partitions,
          configEntries: Object.entries(config).map(([n, value]) => ({ name: n, value })),
        },
      ],
      { timeoutMs: 60_000 },
    );
  });
}

export async function deleteTopics(names: string[]): Promise<void> {
  if (names.length === 0) return;
  await withAdmin((admin) => admin.deleteTopics({ topics: names })).catch(() => undefined);
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

/** The next offset of every partition of `topic` (its end now): pass to consumeRecords as `from`. */
export async function topicEnd(topic: string): Promise<Map<number, string>> {
  const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
  return new Map(offsets.map((o) => [o.partition, o.high]));
}

/**
 * Read a topic with a fresh group until `count` records arrived (or throw after `timeoutMs`, saying how
 * many came): from the beginning, or from the offsets in `from` (see topicEnd), keeping only records that
 * match `filter`. Returns them in arrival order.
 */
export async function consumeRecords(
  topic: string,
  count: number,
  options: { timeoutMs?: number; from?: Map<number, string>; filter?: (record: ConsumedRecord) => boolean } = {},
): Promise<ConsumedRecord[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const consumer = testKafka('test-reader').consumer({ groupId: uniqueName('test-reader') });
  const records: ConsumedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`expected ${count} records on ${topic} within ${timeoutMs} ms, got ${records.length}`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({
          topic: t,
          partition,
          message,
        }: {
          topic: string;
          partition: number;
          message: KafkaMessage;
        }) => {
          records.push({
            topic: t,
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
            timestamp: message.timestamp,
          });
          if (records.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
      // skip what is older than `from` without reading it (seek is allowed once run() was called)
      for (const [partition, offset] of options.from ?? []) consumer.seek({ topic, partition, offset });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Poll `check` until it returns a truthy value; throw with `what` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
  throw new Error(`timed out waiting for ${options.what ?? 'a condition'}${last ? `: ${String(last)}` : ''}`);
}
