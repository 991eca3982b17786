import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka, Producer } from 'kafkajs';
import { buildEvent, eventSize, type LambdaKafkaRecord } from './event';
import { kafkaDestinationTopic } from './mapping';
import type { EventSourceSettings } from './settings';

/** Why records went to the on-failure destination (AWS's `requestContext.condition`). */
export const FAILURE_CONDITIONS = {
  retriesExhausted: 'RetriesExhausted',
  recordAgeExceeded: 'RecordAgeExceeded',
  payloadTooLarge: 'MaximumPayloadSizeExceeded',
  // with a schema registry (./schema-registry): the record's schema is unknown, or it does not deserialize
  schemaNotFound: 'SCHEMA_NOT_FOUND',
  deserializationError: 'DESERIALIZATION_ERROR',
} as const;
export type FailureCondition = (typeof FAILURE_CONDITIONS)[keyof typeof FAILURE_CONDITIONS];

/** One record AWS-style failure metadata is written for (kafka-on-failure-destination.html). */
export interface FailureRecord {
  key: string | undefined;
  /** JSON of the failure record */
  value: string;
  record: LambdaKafkaRecord;
}

/** Why a set of records is handed over. */
export interface FailureReason {
  condition: FailureCondition;
  /** invocations of the records so far (AWS's approximateInvokeCount) */
  invokeCount: number;
  /** the last invocation's error, if it failed with one */
  functionError?: string;
  /** what went wrong before any invocation (a schema registry's failure), said where the record goes */
  detail?: string;
}

export interface FailureDestinationDeps {
  settings: EventSourceSettings;
  region: string;
  /** write failure records to the destination topic; resolves once the broker acknowledged */
  sendFailures(topic: string, failures: FailureRecord[]): Promise<void>;
  log(level: 'warning' | 'error', message: string): void;
  backoff: { initialMs: number; maxMs: number };
}

/**
 * The on-failure destination of one partition: records are handed over one failure record each, keyed
 * like the original. Without a Kafka destination they are dropped as on AWS, but each is logged in full
 * first. A write is retried until the broker acknowledges it, so nothing is committed before that.
 */
export class FailureDestination {
  readonly #deps: FailureDestinationDeps;
  readonly #partitionKey: string;

  constructor(deps: FailureDestinationDeps, partitionKey: string) {
    this.#deps = deps;
    this.#partitionKey = partitionKey;
  }

  /**
   * Resolves true once the records are handed over (or dropped), false when `wanted()` turned false or
   * `signal` aborted while a write was being retried (the records are then not committed; they come again).
   */
  async handOver(
    records: LambdaKafkaRecord[],
    reason: FailureReason,
    signal: AbortSignal,
    wanted: () => boolean,
  ): Promise<boolean> {
    const { settings, region, backoff } = this.#deps;
    const failures = records.map((record) => toFailureRecord(settings, region, record, records.length, reason));
    const topic = kafkaDestinationTopic(settings.onFailureDestination);
    if (!topic) {
      const where = settings.onFailureDestination
        ? `the destination ${settings.onFailureDestination} cannot be reached offline (only kafka://topic can)`
        : 'no onFailureDestination is configured';
      for (const f of failures) {
        const why = reason.detail ? `${reason.condition}: ${reason.detail}` : reason.condition;
        this.#deps.log(
          'error',
          `${this.#partitionKey} offset ${f.record.offset}: record dropped (${why}); ${where}: ${f.value}`,
        );
      }
      return true;
    }
    let wait = backoff.initialMs;
    while (wanted()) {
      try {
        await this.#deps.sendFailures(topic, failures);
        this.#deps.log(
          'warning',
          `${this.#partitionKey}: ${records.length} record(s) from offset ${records[0]!.offset} sent to kafka://${topic} (${reason.condition}${reason.detail ? `: ${reason.detail}` : ''})`,
        );
        return true;
      } catch (error) {
        this.#deps.log('error', `could not write to kafka://${topic}: ${(error as Error).message}; retrying`);
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          return false;
        }
        wait = Math.min(wait * 2, backoff.maxMs);
      }
    }
    return false;
  }
}

/**
 * Writes failure records to a destination topic with a producer of its own, connected on first use:
 * idempotent, acknowledged by all in-sync replicas, keyed like the original records.
 */
export class FailureWriter {
  readonly #kafka: Kafka;
  #producer: Promise<Producer> | undefined;

  constructor(kafka: Kafka) {
    this.#kafka = kafka;
  }

  async send(topic: string, failures: FailureRecord[]): Promise<void> {
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      return producer;
    })();
    const producer = await this.#producer.catch((error: unknown) => {
      this.#producer = undefined;
      throw error;
    });
    await producer.send({
      topic,
      acks: -1,
      messages: failures.map((f) => ({
        key: f.key === undefined ? null : Buffer.from(f.key, 'base64'),
        value: f.value,
      })),
    });
  }

  async close(): Promise<void> {
    const producer = await this.#producer?.catch(() => undefined);
    this.#producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }
}

/**
 * AWS's failure record for one record, as sent to a Kafka on-failure destination
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html).
 */
export function toFailureRecord(
  settings: EventSourceSettings,
  region: string,
  record: LambdaKafkaRecord,
  batchSize: number,
  reason: FailureReason,
): FailureRecord {
  const payload = buildEvent(settings, [record]);
  const body = {
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:${region}:000000000000:function:${settings.functionName}:$LATEST`,
      condition: reason.condition,
      approximateInvokeCount: reason.invokeCount,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      ...(reason.functionError ? { functionError: 'Unhandled' } : {}),
    },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KafkaBatchInfo: {
      batchSize,
      ...(settings.eventSourceArn ? { eventSourceArn: settings.eventSourceArn } : {}),
      bootstrapServers: settings.bootstrapServers,
      payloadSize: eventSize(payload),
      recordInfo: { offset: String(record.offset), timestamp: new Date(record.timestamp).toISOString() },
    },
    payload,
  };
  return { key: record.key, value: JSON.stringify(body), record };
}
