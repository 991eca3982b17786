import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { connectionSettings, type IamTokenSigner } from './cluster-auth';
import { consumerLogCreator, type ConsumerLogContext } from './consumer-log';
import { FailureWriter } from './failure-destination';
import { missingSecretReader, type SecretReader } from './secrets';
import type { EventSourceSettings } from './settings';

export interface EventSourceClientDeps {
  settings: EventSourceSettings;
  clientId: string;
  readSecret?: SecretReader;
  /** signs MSK IAM tokens (default: with the developer's own AWS credentials) */
  signIamToken?: IamTokenSigner;
  /** the kafkajs client (tests give a fake) */
  createKafka?: (config: KafkaConfig) => Kafka;
  /** what its kafkajs log lines say and when (./consumer-log) */
  logContext: ConsumerLogContext;
}

/**
 * The kafkajs client of one event source (its consumer, its admin, its failure writer). For an event
 * with authentication it is built anew before every connection attempt, with the secrets read then, so
 * a corrected or rotated secret is used without a restart.
 */
export class EventSourceClient {
  readonly #deps: EventSourceClientDeps;
  #kafka: Kafka;
  #failureWriter: FailureWriter;

  constructor(deps: EventSourceClientDeps) {
    this.#deps = deps;
    this.#kafka = this.#create({});
    this.#failureWriter = new FailureWriter(this.#kafka);
  }

  get kafka(): Kafka {
    return this.#kafka;
  }

  get failureWriter(): FailureWriter {
    return this.#failureWriter;
  }

  #create(security: Pick<KafkaConfig, 'ssl' | 'sasl'>): Kafka {
    const deps = this.#deps;
    return (deps.createKafka ?? ((config) => new Kafka(config)))({
      clientId: deps.clientId,
      brokers: deps.settings.brokers,
      ...security,
      connectionTimeout: 3000,
      retry: { initialRetryTime: 300, retries: 5, maxRetryTime: 5000 },
      logLevel: logLevel.WARN,
      logCreator: consumerLogCreator(deps.logContext),
    });
  }

  /** Before a connection attempt: for an event with authentication, a client with its secrets read now. */
  async authenticate(): Promise<void> {
    const { auth } = this.#deps.settings;
    if (!auth) return;
    const security = await connectionSettings(
      auth,
      this.#deps.readSecret ?? missingSecretReader,
      this.#deps.signIamToken,
    );
    await this.#failureWriter.close();
    this.#kafka = this.#create(security);
    this.#failureWriter = new FailureWriter(this.#kafka);
  }

  async close(): Promise<void> {
    await this.#failureWriter.close();
  }
}
