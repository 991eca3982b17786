import { Partitioners, type Admin, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import { rootMessage, withDeadline } from '../deadline';
import { BrokerUnavailableError } from '../errors';
import { connectOnce } from '../kafka/connect-once';
import { reportKafkaFailure, type OutageSink } from 'kafkajs-resilience';
import type { Logger } from '../logger';

/** The Kafka side of request-reply: send records to several topics at once, and know a topic's partition count. */
export interface RrTransport {
  /** One produce call for every record (acks=all), bounded by `timeoutMs`; BrokerUnavailableError otherwise. */
  send(topicMessages: TopicMessages[], timeoutMs: number): Promise<void>;
  /** The topic's partition count (cached; asked again when `refresh` is set), or 0 when the topic does not exist. */
  partitionCount(topic: string, refresh?: boolean): Promise<number>;
  /** Connect the producer now (container init), so the first request does not wait for it. */
  warm(): Promise<void>;
  /** The topic's end offset per partition, i.e. the offset the next record will get. */
  endOffsets(topic: string): Promise<Map<number, string>>;
  disconnect(): Promise<void>;
}

/** `work` within `timeoutMs`, every failure a BrokerUnavailableError naming `what` and the innermost reason. */
async function brokerWork<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  try {
    return await withDeadline(
      work,
      timeoutMs,
      () => new BrokerUnavailableError(`${what} did not complete within ${timeoutMs} ms`, { unreachable: true }),
    );
  } catch (error) {
    if (error instanceof BrokerUnavailableError) throw error;
    throw new BrokerUnavailableError(`${what} failed: ${rootMessage(error)}`, { cause: error });
  }
}

/**
 * The producer and admin client request-reply uses, each connected once per container.
 *
 * Not the shared publisher (lib/kafka/producer.ts): that one keeps one request in flight (concurrent
 * HTTP requests would queue behind each other's acknowledgements) and writes one topic per call, while a
 * responder batch may reply to several reply topics in one call. A duplicate request or reply costs
 * nothing here: the requester drops duplicates by correlation id.
 */
export function createRrTransport(options: { kafka: Kafka; logger: Logger; outage?: OutageSink }): RrTransport {
  const { kafka, logger, outage } = options;
  const producer = connectOnce<Producer>(() =>
    // the Java client's partitioner, as lib/kafka/producer.ts: a business key lands where a Java producer puts it
    kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    }),
  );
  const admin = connectOnce<Admin>(() => kafka.admin());
  const partitions = new Map<string, number>();

  return {
    async send(topicMessages, timeoutMs) {
      if (topicMessages.length === 0) return;
      await brokerWork(
        producer.get().then((p) => p.sendBatch({ topicMessages, acks: -1 })),
        timeoutMs,
        'publishing to Kafka',
      ).catch((error: unknown) => {
        // an unreachable broker is told once per outage; anything else on its own line
        if (!reportKafkaFailure(outage, 'request-reply producer', error))
          logger.warn({ err: error, topics: topicMessages.map((t) => t.topic) }, 'request-reply publish failed');
        throw error;
      });
      outage?.success('request-reply producer');
    },
    async partitionCount(topic, refresh = false) {
      const cached = partitions.get(topic);
      if (cached !== undefined && !refresh) return cached;
      const client = await admin.get();
      const metadata = await client.fetchTopicMetadata({ topics: [topic] }).catch((error: { type?: string }) => {
        if (error.type === 'UNKNOWN_TOPIC_OR_PARTITION') return { topics: [] };
        throw error;
      });
      const count = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
      partitions.set(topic, count);
      return count;
    },
    async warm() {
      await producer.get();
    },
    async endOffsets(topic) {
      const client = await admin.get();
      const offsets = await client.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, o.high]));
    },
    async disconnect() {
      await Promise.all([producer.close(), admin.close()]);
    },
  };
}
