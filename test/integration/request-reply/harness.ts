import type { Consumer, Kafka } from 'kafkajs';
import type * as z from '../../../lib/zod';
import { loadConfig } from '../../../lib/config';
import { createKafka } from '../../../lib/kafka/client';
import { decodeKafkaEvent } from '../../../lib/kafka/records';
import { createLogger, type Logger } from '../../../lib/logger';
import { createRequester, type Requester, type RequesterOptions } from '../../../lib/request-reply/requester';
import { createResponder, type Responder, type ResponderOptions } from '../../../lib/request-reply/responder';
import { createRrTransport, type RrTransport } from '../../../lib/request-reply/transport';
import { BROKERS, uniqueName } from '../../helpers/kafka';
import { toMskEvent } from '../../helpers/msk-event';

/** A kafkajs client built by the project's own factory, logging nothing unless RR_TEST_LOG_LEVEL is set. */
export function projectKafka(brokers: string[] = BROKERS): { kafka: Kafka; logger: Logger } {
  const level = (process.env.RR_TEST_LOG_LEVEL ?? 'silent') as 'silent';
  const config = loadConfig({ KAFKA_BROKERS: brokers.join(','), LOG_LEVEL: level, KAFKA_CLIENT_ID: 'rr-test' });
  const logger = createLogger({ level });
  return { kafka: createKafka({ config, logger }), logger };
}

export interface RunningResponder {
  responder: Responder;
  consumer: Consumer;
  transport: RrTransport;
  stop(): Promise<void>;
}

/**
 * The responder helper driven by a plain kafkajs consumer, standing in for the event source: each batch
 * becomes an MSK event, is decoded like in Lambda, answered, and its offsets committed only afterwards.
 */
export async function startResponder<S extends z.Schema>(options: {
  requestTopic: string;
  groupId: string;
  allowedReplyTopics: string[];
  schema: S;
  handle: ResponderOptions<S>['handle'];
  brokers?: string[];
}): Promise<RunningResponder> {
  const { kafka, logger } = projectKafka(options.brokers);
  const transport = createRrTransport({ kafka, logger });
  const responder = createResponder({
    name: 'test-responder',
    schema: options.schema,
    handle: options.handle,
    allowedReplyTopics: options.allowedReplyTopics,
    transport,
    logger,
    sendTimeoutMs: 5000,
  });
  // a short session: after a broker restart kafkajs rejoins under a new member id and the group waits for
  // the old member's session to expire before it assigns partitions again
  const consumer = kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 500,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: options.requestTopic, fromBeginning: true });
  let joined!: () => void;
  const ready = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }) => {
      await responder.handleRecords(decodeKafkaEvent(toMskEvent(batch.topic, batch.partition, batch.messages)));
    },
  });
  await ready;
  return {
    responder,
    consumer,
    transport,
    async stop() {
      await consumer.disconnect();
      await transport.disconnect();
    },
  };
}

export function startRequester(
  replyTopic: string,
  overrides: Partial<RequesterOptions> = {},
  brokers?: string[],
): { requester: Requester; stop(): Promise<void> } {
  const { kafka, logger } = projectKafka(brokers);
  const transport = createRrTransport({ kafka, logger });
  const requester = createRequester({
    kafka,
    transport,
    logger,
    replyTopic,
    timeoutMs: 30_000,
    groupIdPrefix: uniqueName('rr-test'),
    ...overrides,
  });
  return {
    requester,
    async stop() {
      await requester.stop();
      await transport.disconnect();
    },
  };
}
