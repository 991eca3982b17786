import type { Context } from 'aws-lambda';
import avro from 'avsc';
import type { Consumer } from 'kafkajs';
import type { KafkaBatchResponse } from '../../../lib/kafka/batch';
import type { Envelope } from '../../../lib/kafka/envelope';
import type { KafkaEvent } from '../../../lib/kafka/records';
import { createTopics } from 'kafkajs-resilience';
import { TOPICS } from '../../../lib/kafka/topics';
import { toMskEvent } from '../../helpers/msk-event';
import {
  BROKERS,
  waitFor,
  consumeRecords,
  deleteTopics,
  testKafka,
  uniqueName,
  withAdmin,
  type ConsumedRecord,
} from '../../helpers/kafka';

/**
 * Give this test file its own copy of every declared topic, under a unique KAFKA_TOPIC_PREFIX, and point
 * the functions' runtime() at it. Call once per file, before the first handler runs (runtime() reads the
 * environment once per process, and jest runs each file in its own).
 */
export async function usePrefixedTopics(
  label: string,
  /** broker-side configs per declared topic, e.g. { 'order-events': { 'max.message.bytes': '750' } } */
  configs: Record<string, Record<string, string>> = {},
  /** topics a test adds to the declared ones (e.g. a new listener's output) */
  extraTopics: { name: string; partitions: number }[] = [],
): Promise<{ prefix: string; topic: (name: string) => string; cleanup: () => Promise<void> }> {
  const prefix = `${uniqueName(label)}-`;
  process.env.KAFKA_BROKERS = BROKERS.join(',');
  process.env.KAFKA_TOPIC_PREFIX = prefix;
  process.env.LOG_LEVEL ??= 'error';
  const declared = [...TOPICS, ...extraTopics];
  const names = declared.map((t) => `${prefix}${t.name}`);
  await withAdmin(async (admin) => {
    await createTopics(
      admin,
      declared.map((t) => ({
        topic: `${prefix}${t.name}`,
        numPartitions: t.partitions,
        configEntries: Object.entries(configs[t.name] ?? {}).map(([name, value]) => ({ name, value })),
      })),
      { timeoutMs: 60_000 },
    );
  });
  return { prefix, topic: (name) => `${prefix}${name}`, cleanup: () => deleteTopics(names) };
}

type LambdaHandler = (event: KafkaEvent, context: Context) => Promise<KafkaBatchResponse>;

export interface RunningFunction {
  /** how many invocations answered with at least one failed record */
  failedInvocations: () => number;
  invocations: () => number;
  stop: () => Promise<void>;
}

/**
 * Drive a Kafka-triggered handler from a plain kafkajs consumer in `groupId`, the way an event source
 * mapping does (the local event source in packages/serverless-offline-kafka is tested on its own): one batch per partition,
 * the handler's partial batch response honoured — offsets committed up to the first failed record,
 * which is delivered again after a short pause.
 */
export async function runFunction(
  handler: LambdaHandler,
  options: { topic: string; groupId: string; batchSize?: number },
): Promise<RunningFunction> {
  const consumer: Consumer = testKafka('test-event-source').consumer({
    groupId: options.groupId,
    maxBytesPerPartition: 64 * 1024,
    sessionTimeout: 10_000,

    heartbeatInterval: 1000,
  });
  let invocations = 0;
  let failedInvocations = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    // partitions in parallel, one batch in flight per partition, as Lambda processes them
    partitionsConsumedConcurrently: 6,
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const size = options.batchSize ?? 100;
      for (let start = 0; start < batch.messages.length; start += size) {
        if (!isRunning() || isStale()) return;
        const messages = batch.messages.slice(start, start + size);
        invocations += 1;
        const response = await handler(
          toMskEvent(batch.topic, batch.partition, messages) as unknown as KafkaEvent,
          {} as Context,
        );
        const failed = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier.offset);
        const firstFailed = failed.length ? Math.min(...failed) : Infinity;
        const done = messages.filter((m) => Number(m.offset) < firstFailed);
        for (const m of done) resolveOffset(m.offset);
        if (done.length > 0) {
          // committed only after the invocation, up to the first failed record (what Lambda does)
          const next = String(Number(done[done.length - 1]!.offset) + 1);
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        }
        await heartbeat();
        if (firstFailed !== Infinity) {
          failedInvocations += 1;
          // deliver the failed record again after a pause, without holding the other partitions
          const tp = [{ topic: batch.topic, partitions: [batch.partition] }];
          consumer.pause(tp);
          consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(firstFailed) });
          setTimeout(() => consumer.resume(tp), 300);
          return;
        }
      }
    },
  });
  await joined;
  return {
    invocations: () => invocations,
    failedInvocations: () => failedInvocations,
    stop: () => consumer.disconnect(),
  };
}

/** The service's registry (serverless.yml's default; npm test runs it): the Avro schemas by id. */
const REGISTRY_URL = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081';
const avroTypes = new Map<number, Promise<avro.Type>>();
const avroType = (id: number): Promise<avro.Type> => {
  let type = avroTypes.get(id);
  if (!type) {
    type = fetch(`${REGISTRY_URL}/schemas/ids/${id}`)
      .then((r) => r.json() as Promise<{ schema: string }>)
      .then(({ schema }) => avro.Type.forSchema(JSON.parse(schema) as avro.Schema));
    avroTypes.set(id, type);
  }
  return type;
};

/**
 * A record's envelope: JSON, or Avro in Confluent's frame (magic byte 0, schema id; order-analytics),
 * decoded with its schema from the registry.
 */
async function envelopeOf<T>(value: Buffer): Promise<Envelope<T>> {
  if (value[0] !== 0) return JSON.parse(String(value)) as Envelope<T>;
  const type = await avroType(value.readInt32BE(1));
  return JSON.parse(JSON.stringify(type.fromBuffer(value.subarray(5)))) as Envelope<T>;
}

/** The envelopes on `topic` (at least `count` records), parsed, in arrival order. */
export async function readEnvelopes<T = unknown>(
  topic: string,
  count: number,
  timeoutMs = 90_000,
): Promise<(Envelope<T> & { _record: ConsumedRecord })[]> {
  const records = await consumeRecords(topic, count, { timeoutMs });
  return Promise.all(records.map(async (r) => ({ ...(await envelopeOf<T>(r.value!)), _record: r })));
}

/** The committed offsets of `groupId` on `topic`, and the topic's end offsets, per partition. */
export async function groupLag(
  groupId: string,
  topic: string,
): Promise<{ partition: number; committed: number; end: number }[]> {
  return retrying(() =>
    withAdmin(async (admin) => {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const ends = await admin.fetchTopicOffsets(topic);
      return ends.map((e) => ({
        partition: e.partition,
        end: Number(e.high),
        // -1 = nothing committed yet: on these fresh topics, the same as "at offset 0"
        committed: Math.max(0, Number(committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1)),
      }));
    }),
  );
}

/** Run an admin call again while the broker answers with a retriable error (a busy broker moving leaders). */
async function retrying<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !(error as { retriable?: boolean }).retriable) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Wait until `groupId` is stable with `members` members (so each replica owns some partitions). */
export async function waitForMembers(groupId: string, members: number): Promise<void> {
  await waitFor(
    () =>
      withAdmin(async (admin) => {
        const { groups } = await admin.describeGroups([groupId]);
        return groups[0]?.state === 'Stable' && groups[0].members.length === members;
      }),
    { timeoutMs: 60_000, what: `${members} members in group ${groupId}` },
  );
}

/** Has `groupId` committed everything on `topic`? */
export async function caughtUp(groupId: string, topic: string): Promise<boolean> {
  return (await groupLag(groupId, topic)).every((p) => p.committed === p.end);
}

/** A valid order for POST /orders / placeOrder; `sku` lets a test choose the outcome. */
export function anOrder(orderId: string, options: { sku?: string; quantity?: number; customerId?: string } = {}) {
  return {
    orderId,
    customerId: options.customerId ?? `customer-${orderId.length % 7}`,
    currency: 'EUR',
    items: [{ sku: options.sku ?? 'sku-standard', quantity: options.quantity ?? 1, unitPriceCents: 1250 }],
  };
}

/**
 * POST /orders to a running serverless offline, with a correlation id; returns the status and body.
 * A connection error or a 503 is retried with the same order id, as docs/http-api.md tells clients to do
 * (the order id makes the retry safe).
 */
export async function postOrder(
  baseUrl: string,
  order: ReturnType<typeof anOrder>,
  correlationId: string,
): Promise<{ status: number; body: { orderId?: string; messageId?: string; correlationId?: string } }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch(`${baseUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
        body: JSON.stringify(order),
      });
      const body = (await response.json()) as { orderId?: string; messageId?: string };
      if (response.status !== 503 || attempt >= 5) return { status: response.status, body };
    } catch (error) {
      if (attempt >= 5) throw error;
    }
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
}

/** Run `work` over `items` with at most `concurrency` in flight, keeping the results in item order. */
export async function inParallel<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/** How many records `topic` holds (the sum of its partitions' end offsets). */
export async function recordCount(topic: string): Promise<number> {
  return (await groupLag(`${topic}-count-only`, topic)).reduce((sum, p) => sum + p.end, 0);
}
