import { readFileSync } from 'node:fs';
import { Kafka, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Config } from '../config';
import { ConfigError } from '../errors';
// every client of the service is built here: importing kafkajs-resilience keeps kafkajs's idle
// connections from spinning a 1 ms timer
import 'kafkajs-resilience';
import type { OutageSink } from 'kafkajs-resilience';
import { kafkaLogCreator, kafkaLogLevel, type Logger } from '../logger';
import {
  cachedBootstrapBrokers,
  createIamTokenProvider,
  defaultAwsClients,
  getScramCredentials,
  type AwsClients,
} from './msk';

/**
 * The one place a kafkajs client is built from configuration. Producers, consumers and admin clients
 * all come from here, and the configuration alone decides how they connect:
 *
 * | configuration                               | brokers                          | auth                        |
 * |---------------------------------------------|----------------------------------|-----------------------------|
 * | KAFKA_BROKERS (local)                       | that list                        | none, or SCRAM from env     |
 * | MSK_CLUSTER_ARN (AWS)                       | GetBootstrapBrokers, once        | per KAFKA_AUTH              |
 * | KAFKA_AUTH=iam                              |                                  | OAUTHBEARER + MSK IAM token |
 * | KAFKA_AUTH=scram + KAFKA_SASL_SECRET_ARN    |                                  | SCRAM-SHA-512 from secret   |
 *
 * It stays synchronous: what needs AWS (the broker list, the SCRAM secret) is fetched by kafkajs's
 * `brokers` function when the first connection is made, and cached for the container, so callers
 * (lib/runtime.ts) build clients at cold start exactly as locally.
 *
 * @example
 * const admin = createKafka({ config: loadConfig(process.env), logger }).admin();
 */
export function createKafka(options: {
  config: Config;
  logger: Logger;
  /** kafkajs settings that replace the ones built from `config` */
  overrides?: Partial<KafkaConfig>;
  aws?: AwsClients;
  /** where connection trouble is told once per outage instead of once per attempt */
  outage?: OutageSink;
}): Kafka {
  const { config, logger, overrides = {}, aws = {}, outage } = options;
  const { kafka } = config;
  // built lazily: a local run never loads AWS credentials or creates an SDK client
  const defaults = defaultAwsClients(kafka.region);

  let sasl: SASLOptions | undefined;
  /** work that must finish before the first connection authenticates */
  let prepare: (() => Promise<void>) | undefined;
  if (kafka.auth === 'iam') {
    const region = kafka.region;
    if (!region) throw new ConfigError(['AWS_REGION is required when KAFKA_AUTH=iam (or set MSK_CLUSTER_ARN)']);
    sasl = {
      mechanism: 'oauthbearer',
      oauthBearerProvider: createIamTokenProvider({ region, generateToken: aws.generateIamToken }),
    };
  } else if (kafka.auth === 'scram' && kafka.saslSecretArn) {
    // kafkajs reads username/password when a connection authenticates, which is always after the
    // `brokers` function below resolved: filling them in there keeps createKafka synchronous.
    const credentials = { mechanism: 'scram-sha-512' as const, username: '', password: '' };
    sasl = credentials;
    const secretArn = kafka.saslSecretArn;
    let loaded: Promise<void> | undefined;
    prepare = () =>
      (loaded ??= (async () =>
        getScramCredentials({ secretArn, client: aws.secretsManager ?? (await defaults.secretsManager()) }))().then(
        (secret) => void Object.assign(credentials, secret),
        (error: unknown) => {
          loaded = undefined; // ask again on the next connection attempt
          throw error;
        },
      ));
  } else if (kafka.auth === 'scram') {
    sasl = { mechanism: 'scram-sha-512', ...kafka.sasl! };
  }

  const clusterArn = kafka.mskClusterArn;
  const staticBrokers = kafka.brokers;
  const brokers: KafkaConfig['brokers'] =
    clusterArn || prepare
      ? async () => {
          await prepare?.();
          return clusterArn
            ? cachedBootstrapBrokers({
                clusterArn,
                auth: kafka.auth,
                ssl: kafka.ssl,
                client: aws.kafka ?? (await defaults.kafka()),
              })
            : staticBrokers;
        }
      : staticBrokers;

  return new Kafka({
    clientId: kafka.clientId,
    brokers,
    ssl: kafka.ssl && kafka.sslCaFile ? { ca: [readCaFile(kafka.sslCaFile)] } : kafka.ssl,
    sasl,
    connectionTimeout: kafka.connectionTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    // kafkajs's default retry budget (5 retries, up to 30 s) outlasts an HTTP caller's patience;
    // callers bound each operation by their own deadline on top of this.
    retry: { initialRetryTime: 100, retries: 3, maxRetryTime: 2000 },
    logLevel: kafkaLogLevel(config.logLevel),
    logCreator: kafkaLogCreator(logger, outage),
    ...overrides,
  });
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`KAFKA_SSL_CA_FILE cannot be read (${(error as Error).message})`]);
  }
}
