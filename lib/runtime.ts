import type { Kafka } from 'kafkajs';
import { OutageTracker } from 'kafkajs-resilience';
import { loadConfig, type Config, type ReplyPartitionFormat } from './config';
import { createKafka } from './kafka/client';
import { createPublisher, type Publisher } from './kafka/producer';
import { TOPIC_NAMES, topicName } from './kafka/topics';
import { createLogger, type Logger } from './logger';
import { createRequester, type Requester } from './request-reply/requester';
import { createRrTransport, type RrTransport } from './request-reply/transport';

/** Every topic the functions use, under its real name: KAFKA_TOPIC_PREFIX applied, the quote topics as configured. */
export type Topics = Record<keyof typeof TOPIC_NAMES, string> & {
  /** the reply topics a responder may write to (REPLY_TOPICS_ALLOWED) */
  allowedReplyTopics: string[];
};

/**
 * The real topic names for `config`: the one place the prefix is applied for the functions, and where
 * QUOTE_REQUEST_TOPIC / QUOTE_REPLY_TOPIC replace the declared quote topics.
 *
 * @example
 * resolveTopics(loadConfig({ KAFKA_BROKERS: 'b:9092', KAFKA_TOPIC_PREFIX: 'alice-' })).orders; // 'alice-orders'
 */
export function resolveTopics(config: Config): Topics {
  const named = Object.fromEntries(
    Object.entries(TOPIC_NAMES).map(([key, name]) => [key, topicName(config, name)]),
  ) as Record<keyof typeof TOPIC_NAMES, string>;
  return {
    ...named,
    quoteRequests: topicName(config, config.quotes.requestTopic),
    quoteReplies: topicName(config, config.quotes.replyTopic),
    allowedReplyTopics: config.requestReply.allowedReplyTopics.map((t) => topicName(config, t)),
  };
}

/** What a function's container shares between invocations, built once from its configuration. */
export interface Runtime {
  config: Config;
  logger: Logger;
  kafka: Kafka;
  /** the shared producer (one request in flight, every publish bounded by PUBLISH_TIMEOUT_MS) */
  publisher: Publisher;
  /** the container's one account of broker outages (told once, summarised, ended) */
  outage: OutageTracker;
  topics: Topics;
  /** the real name of a declared topic outside `topics` (KAFKA_TOPIC_PREFIX applied), e.g. a new listener's output */
  topic(name: string): string;
  /** request-reply's producer and admin client, connected on first use */
  rrTransport: RrTransport;
  /** the container's ONE requester reading `replyTopic` (a real name), created on first use */
  requester(replyTopic: string, replyPartitionFormat?: ReplyPartitionFormat): Requester;
}

/** Parts a test (or another host) provides instead of the real ones. */
export type RuntimeParts = Partial<Pick<Runtime, 'logger' | 'kafka' | 'publisher' | 'rrTransport'>>;

/**
 * Build a runtime from an environment: configuration validated once (ConfigError naming every
 * problem), then the logger, the Kafka client, the producer and the request-reply transport, none of
 * them connected before first use. The parts given replace the real ones (tests pass fakes here).
 *
 * @example
 * const rt = createRuntime({ env: { KAFKA_BROKERS: '127.0.0.1:9092' }, publisher: fakePublisher });
 */
export function createRuntime(options: { env: Record<string, string | undefined> } & RuntimeParts): Runtime {
  const { env, ...parts } = options;
  const config = loadConfig(env);
  const logger =
    parts.logger ??
    createLogger({
      level: config.logLevel,
      base: { service: config.kafka.clientId, fn: env.AWS_LAMBDA_FUNCTION_NAME },
    });
  // every client of the container tells an unreachable broker here, once per outage
  const outage = new OutageTracker((level, message, fields) =>
    logger[level]({ component: 'kafka', ...fields }, message),
  );
  const kafka = parts.kafka ?? createKafka({ config, logger, outage });
  const publisher = parts.publisher ?? createPublisher({ kafka, logger, timeoutMs: config.publishTimeoutMs, outage });
  const rrTransport = parts.rrTransport ?? createRrTransport({ kafka, logger, outage });
  const requesters = new Map<string, Requester>();
  return {
    config,
    logger,
    kafka,
    publisher,
    outage,
    topics: resolveTopics(config),
    topic: (name) => topicName(config, name),
    rrTransport,
    requester(replyTopic, replyPartitionFormat) {
      let requester = requesters.get(replyTopic);
      if (!requester) {
        requester = createRequester({
          kafka,
          transport: rrTransport,
          logger,
          replyTopic,
          timeoutMs: config.requestReply.replyTimeoutMs,
          groupIdPrefix: `${config.topicPrefix}${config.kafka.clientId}`,
          replyPartitionFormat,
          outage,
        });
        requesters.set(replyTopic, requester);
      }
      return requester;
    },
  };
}

let container: Runtime | undefined;

/**
 * The container's runtime, built on first use from process.env (the only place it is read) and then
 * shared by every invocation: Lambda keeps module state between invocations of a container.
 */
export function runtime(): Runtime {
  return (container ??= createRuntime({ env: process.env }));
}
