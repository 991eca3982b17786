import { Kafka, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Config } from '../config';
import { kafkaLogCreator, kafkaLogLevel, type Logger } from '../logger';

/**
 * The one place a kafkajs client is built from configuration (brokers, TLS, SASL, timeouts, logging).
 * Producers, consumers and admin clients all come from here.
 */
export function createKafka(config: Config, logger: Logger, overrides: Partial<KafkaConfig> = {}): Kafka {
  const { kafka } = config;
  let sasl: SASLOptions | undefined;
  if (kafka.auth === 'scram') sasl = { mechanism: 'scram-sha-512', ...kafka.sasl! };
  if (kafka.auth === 'iam') {
    throw new Error('KAFKA_AUTH=iam needs the MSK IAM token provider, which is not built yet (issue: deploy to MSK)');
  }
  return new Kafka({
    clientId: kafka.clientId,
    brokers: kafka.brokers,
    ssl: kafka.ssl,
    sasl,
    connectionTimeout: kafka.connectionTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    // kafkajs's default retry budget (5 retries, up to 30 s) outlasts an HTTP caller's patience;
    // callers bound each operation by their own deadline on top of this.
    retry: { initialRetryTime: 100, retries: 3, maxRetryTime: 2000 },
    logLevel: kafkaLogLevel(config.logLevel),
    logCreator: kafkaLogCreator(logger),
    ...overrides,
  });
}
