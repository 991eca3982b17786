import { Partitioners, type Kafka, type Message, type Producer, type RecordMetadata } from 'kafkajs';
import { BrokerUnavailableError } from '../errors';
import type { Logger } from '../logger';

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
 * be published", and callers retry with the same id (see README, "Delivery guarantees").
 */
export function createPublisher(kafka: Kafka, logger: Logger, defaults: { timeoutMs: number }): Publisher {
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;

  const connect = (): Promise<Producer> => {
    connecting ??= (async () => {
      const p = kafka.producer({
        // Java-compatible murmur2 partitioning: a key lands on the same partition whichever client wrote it
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        // Not idempotent: kafkajs's idempotent producer needs unbounded retries, and every publish here is
        // bounded by a deadline. A retried send can therefore write a record twice; consumers de-duplicate
        // on the message id (README, "Delivery guarantees"). One request in flight keeps per-key order.
        idempotent: false,
        maxInFlightRequests: 1,
      });
      try {
        await p.connect();
        producer = p;
        return p;
      } catch (error) {
        connecting = undefined;
        await p.disconnect().catch(() => undefined);
        throw error;
      }
    })();
    return connecting;
  };

  return {
    async publish(topic, messages, options = {}) {
      const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new BrokerUnavailableError(`the Kafka broker did not acknowledge within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([connect().then((p) => p.send({ topic, messages, acks: -1 })), deadline]);
      } catch (error) {
        if (error instanceof BrokerUnavailableError) throw error;
        logger.warn({ err: error, topic }, 'publish failed');
        throw new BrokerUnavailableError(`the Kafka broker could not take the message: ${rootMessage(error)}`, error);
      } finally {
        clearTimeout(timer);
      }
    },
    async disconnect() {
      const p = producer ?? (await connecting?.catch(() => undefined));
      producer = undefined;
      connecting = undefined;
      await p?.disconnect();
    },
  };
}

/** kafkajs wraps errors several times over (retries exceeded → connection error): say the innermost. */
function rootMessage(error: unknown): string {
  let current = error as { message?: string; cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; depth < 10; depth++) {
    const next = (current?.cause ?? current?.originalError) as typeof current;
    if (!next || typeof next !== 'object') break;
    current = next;
  }
  return current?.message ?? String(error);
}
