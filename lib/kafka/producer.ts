import { Partitioners, type Kafka, type Message, type Producer, type RecordMetadata } from 'kafkajs';
import { withDeadline, rootMessage } from '../deadline';
import { BrokerUnavailableError } from '../errors';
import { reportKafkaFailure, type OutageSink } from 'kafkajs-resilience';
import type { Logger } from '../logger';
import { connectOnce } from './connect-once';

export interface Publisher {
  /** Publish to one topic, resolving once the broker acknowledged (acks=all), or throwing BrokerUnavailableError. */
  publish(topic: string, messages: Message[], options?: { timeoutMs?: number }): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

/**
 * A producer connected once per container and shared by every invocation. The connection is made on
 * first use; when it fails, the next call tries again (a broker that was down can come back). Every
 * publish is bounded by a deadline so an HTTP caller gets an answer, never a hang.
 *
 * When the deadline passes, kafkajs may still deliver the message afterwards: a 503 means "not known to
 * be published", and callers retry with the same id (see docs/http-api.md, "Delivery guarantees").
 */
export function createPublisher(options: {
  kafka: Kafka;
  logger: Logger;
  /** the deadline of every publish that does not give its own */
  timeoutMs: number;
  outage?: OutageSink;
}): Publisher {
  const { kafka, logger, outage, timeoutMs: defaultTimeoutMs } = options;
  const producer = connectOnce<Producer>(() =>
    kafka.producer({
      // Java-compatible murmur2 partitioning: a key lands on the same partition whichever client wrote it
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      // Not idempotent: kafkajs's idempotent producer needs unbounded retries, and every publish here is
      // bounded by a deadline. A retried send can therefore write a record twice; consumers de-duplicate
      // on the message id (docs/http-api.md, "Delivery guarantees"). One request in flight keeps per-key order.
      idempotent: false,
      maxInFlightRequests: 1,
    }),
  );

  return {
    async publish(topic, messages, options = {}) {
      const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
      try {
        const written = await withDeadline(
          producer.get().then((p) => p.send({ topic, messages, acks: -1 })),
          timeoutMs,
          () =>
            new BrokerUnavailableError(`the Kafka broker did not acknowledge within ${timeoutMs} ms`, {
              unreachable: true,
            }),
        );
        outage?.success('producer');
        return written;
      } catch (error) {
        const failure =
          error instanceof BrokerUnavailableError
            ? error
            : new BrokerUnavailableError(`the Kafka broker could not take the message: ${rootMessage(error)}`, {
                cause: error,
              });
        // an unreachable broker is told once per outage; anything else on its own line
        if (!reportKafkaFailure(outage, 'producer', failure)) logger.warn({ err: error, topic }, 'publish failed');
        throw failure;
      }
    },
    disconnect: () => producer.close(),
  };
}
