/**
 * Errors of the local Kafka event source. The plugin is written to be published on its own, so it does
 * not import the project's lib/errors.ts; the shape (`code`, `retriable`) is the same.
 */
export class OfflineKafkaError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  constructor(message: string, options: { code: string; retriable?: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'OfflineKafkaError';
    this.code = options.code;
    this.retriable = options.retriable ?? false;
  }
}

/** serverless.yml describes an event the local event source cannot run. */
export class OfflineKafkaConfigError extends OfflineKafkaError {
  constructor(message: string) {
    super(message, { code: 'OFFLINE_KAFKA_CONFIG' });
    this.name = 'OfflineKafkaConfigError';
  }
}

/** The handler's partial batch response names a record that was not in the batch: AWS fails the whole batch. */
export class UnknownItemIdentifierError extends OfflineKafkaError {
  constructor(identifier: unknown) {
    super(`batchItemFailures names a record that is not in the batch: ${JSON.stringify(identifier)}`, {
      code: 'UNKNOWN_ITEM_IDENTIFIER',
      retriable: true,
    });
    this.name = 'UnknownItemIdentifierError';
  }
}
