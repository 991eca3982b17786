/**
 * Kafka pieces the benchmarks share: topic set-up and clean-up, records that carry their own index (so a
 * consumer that mislabels partitions or offsets can still be checked for loss and duplication), and the
 * request-reply floor, a raw kafkajs round trip with no HTTP, no Lambda runtime and no event source.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin, type Consumer, type Kafka } from 'kafkajs';
import { createTopics } from 'kafkajs-resilience';

/** `fn` with a connected admin client, disconnected afterwards. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  await withAdmin(kafka, (admin) => admin.deleteTopics({ topics })).catch(() => undefined);
}

/** Digits of the index at the start of every benchmark record's value. */
const INDEX_DIGITS = 10;

/** Index `i`'s record value: the index, then filler up to `size` bytes. */
export const indexedValue = (i: number, size: number): Buffer =>
  Buffer.from(String(i).padStart(INDEX_DIGITS, '0').padEnd(Math.max(size, INDEX_DIGITS), '.'), 'latin1');

/** The index a benchmark record's value starts with. */
export const indexOf = (value: Buffer): number => Number(value.toString('latin1', 0, INDEX_DIGITS));

/** Produce `count` indexed records of `size` bytes, spread round-robin over the topic's partitions. */
export async function produceIndexed(
  kafka: Kafka,
  topic: string,
  partitions: number,
  count: number,
  size: number,
): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < count; i += 1000) {
      const n = Math.min(1000, count - i);
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: n }, (_, j) => ({
          partition: (i + j) % partitions,
          value: indexedValue(i + j, size),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Which of `total` indexed records a consumer delivered: how many never came, how many came again. */
export class Delivery {
  readonly #seen: Uint8Array;
  delivered = 0;
  duplicates = 0;
  constructor(readonly total: number) {
    this.#seen = new Uint8Array(total);
  }
  add(index: number): void {
    this.delivered += 1;
    if (!(index >= 0 && index < this.total)) throw new Error(`a record that was not produced: index ${index}`);
    if (this.#seen[index]) this.duplicates += 1;
    else this.#seen[index] = 1;
  }
  get unique(): number {
    return this.delivered - this.duplicates;
  }
  get lost(): number {
    return this.total - this.unique;
  }
  get complete(): boolean {
    return this.unique === this.total;
  }
}

/** The request-reply floor: plain kafkajs request → responder → reply listener, on the same broker. */
export async function startKafkaFloor(kafka: Kafka, prefix: string) {
  const requests = `${prefix}floor-requests`;
  const replies = `${prefix}floor-replies`;
  await withAdmin(kafka, (admin) =>
    createTopics(admin, [
      { topic: requests, numPartitions: 6 },
      { topic: replies, numPartitions: 1 },
    ]),
  );
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const pending = new Map<string, (value: string) => void>();
  const joined = (consumer: Consumer) =>
    new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));

  const responder = kafka.consumer({ groupId: `${prefix}floor-responder`, maxWaitTimeInMs: 1000 });
  await responder.connect();
  await responder.subscribe({ topic: requests, fromBeginning: true });
  const responderJoined = joined(responder);
  await responder.run({
    partitionsConsumedConcurrently: 6,
    eachMessage: async ({ message }) => {
      await producer.send({
        topic: replies,
        acks: -1,
        messages: [{ key: message.key, value: message.value, headers: { cid: message.headers!.cid! } }],
      });
    },
  });
  const listener = kafka.consumer({ groupId: `${prefix}floor-listener`, maxWaitTimeInMs: 1000 });
  await listener.connect();
  await listener.subscribe({ topic: replies, fromBeginning: true });
  const listenerJoined = joined(listener);
  await listener.run({
    eachMessage: async ({ message }) => {
      const cid = String(message.headers!.cid);
      pending.get(cid)?.(message.value!.toString());
      pending.delete(cid);
    },
  });
  await Promise.all([responderJoined, listenerJoined]);

  return {
    async call(body: { productId: string; quantity: number }): Promise<string> {
      const cid = randomUUID();
      const answer = new Promise<string>((resolve, reject) => {
        pending.set(cid, resolve);
        setTimeout(() => pending.delete(cid) && reject(new Error('floor timeout')), 10_000).unref();
      });
      await producer.send({
        topic: requests,
        acks: -1,
        messages: [{ key: body.productId, value: JSON.stringify(body), headers: { cid } }],
      });
      return answer;
    },
    async stop() {
      await Promise.all([responder.disconnect(), listener.disconnect()]);
      await producer.disconnect();
      await deleteTopics(kafka, [requests, replies]);
    },
  };
}
