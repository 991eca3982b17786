import type { Kafka } from 'kafkajs';
import { loadConfig, type Config } from './config';
import { createKafka } from './kafka/client';
import { createPublisher, type Publisher } from './kafka/producer';
import { createLogger, type Logger } from './logger';

export interface Runtime {
  config: Config;
  logger: Logger;
  kafka: Kafka;
  publisher: Publisher;
}

let current: Runtime | undefined;

/**
 * The per-container dependencies, built on first use and then shared by every invocation of the
 * container (Lambda keeps module state between invocations): configuration read from the environment
 * once, the logger, the Kafka client and a producer connected once. The only place process.env is read.
 */
export function runtime(): Runtime {
  if (current) return current;
  const config = loadConfig(process.env);
  const logger = createLogger({
    level: config.logLevel,
    base: { service: config.kafka.clientId, fn: process.env.AWS_LAMBDA_FUNCTION_NAME },
  });
  const kafka = createKafka(config, logger);
  const publisher = createPublisher(kafka, logger, { timeoutMs: config.publishTimeoutMs });
  current = { config, logger, kafka, publisher };
  return current;
}
