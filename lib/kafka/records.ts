import type { MSKEvent, SelfManagedKafkaEvent } from 'aws-lambda';
import type * as z from '../zod';
import { AppError, ValidationError } from '../errors';
import { parseJsonAs } from '../validation';
import type { Envelope } from './envelope';

/** The `eventSource` values AWS sends (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html, with-kafka.html). */
export const KAFKA_EVENT_SOURCES = { msk: 'aws:kafka', selfManaged: 'SelfManagedKafka' } as const;

/** An MSK or self-managed Kafka event as Lambda delivers it. */
export type KafkaEvent = MSKEvent | SelfManagedKafkaEvent;

/** One Kafka record, decoded from the Lambda event: bytes instead of base64, headers as strings. */
export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  /** epoch milliseconds */
  timestamp: number;
  timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  /** the key as UTF-8 text, or null when the record has none */
  key: string | null;
  /** the raw key bytes, or null */
  keyBytes: Buffer | null;
  /** the raw value bytes (empty for an empty or null value) */
  value: Buffer;
  /** header values as UTF-8 text; a repeated name keeps its last value, as most Kafka clients do */
  headers: Record<string, string>;
  /** every header in record order with its raw bytes (names may repeat; values may be binary) */
  rawHeaders: { name: string; value: Buffer }[];
  /** "<topic>-<partition>": the partition id AWS uses in `records` and in batch item failures */
  partitionId: string;
}

/** The Lambda event is not a Kafka event at all: a wiring mistake, not a poison record. */
export class KafkaEventError extends AppError {
  constructor(message: string) {
    super(message, { code: 'KAFKA_EVENT_INVALID' });
    this.name = 'KafkaEventError';
  }
}

/**
 * A record that can never be processed (not JSON, breaks the schema): it goes to the dead-letter topic
 * instead of being retried. Not retriable, by definition.
 */
export class PoisonRecordError extends ValidationError {
  constructor(message: string, details?: unknown, cause?: unknown) {
    super(message, details, cause);
    this.name = 'PoisonRecordError';
  }
}

/**
 * Decode an MSK or self-managed Kafka event into records, in the order AWS listed them (offset order
 * within each partition). Keys and values are base64; header values are arrays of signed Java bytes,
 * which `Buffer.from` masks to 0-255.
 *
 * @example
 * const records = decodeKafkaEvent(event);
 * records[0].value.toString('utf8');
 */
export function decodeKafkaEvent(event: KafkaEvent): KafkaRecord[] {
  const source = (event as { eventSource?: unknown } | null)?.eventSource;
  if (source !== KAFKA_EVENT_SOURCES.msk && source !== KAFKA_EVENT_SOURCES.selfManaged) {
    throw new KafkaEventError(
      `expected a Kafka event (eventSource "aws:kafka" or "SelfManagedKafka"), got eventSource ${JSON.stringify(source)}; ` +
        'check that the function is triggered by an msk or kafka event',
    );
  }
  if (typeof event.records !== 'object' || event.records === null) {
    throw new KafkaEventError('the Kafka event has no "records" object');
  }
  const records: KafkaRecord[] = [];
  for (const list of Object.values(event.records)) {
    for (const record of list) {
      // AWS omits the key or sends null when the record has none (Powertools fixtures show both)
      const rawKey = (record as { key?: string | null }).key;
      const keyBytes = rawKey === undefined || rawKey === null ? null : Buffer.from(rawKey, 'base64');
      const rawHeaders = (record.headers ?? []).flatMap((header) =>
        Object.entries(header).map(([name, bytes]) => ({ name, value: Buffer.from(bytes) })),
      );
      records.push({
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        timestampType: record.timestampType,
        key: keyBytes ? keyBytes.toString('utf8') : null,
        keyBytes,
        value: Buffer.from((record as { value?: string | null }).value ?? '', 'base64'),
        headers: Object.fromEntries(rawHeaders.map((h) => [h.name, h.value.toString('utf8')])),
        rawHeaders,
        partitionId: `${record.topic}-${record.partition}`,
      });
    }
  }
  return records;
}

/**
 * Parse a record's value as JSON and validate it against `schema`. Throws PoisonRecordError (not
 * retriable) when the value is not JSON or breaks the schema, listing every problem with its path.
 *
 * @example
 * const order = parseJsonRecord(record, OrderSchema);
 */
export function parseJsonRecord<S extends z.Schema>(record: KafkaRecord, schema: S): z.infer<S> {
  return parseJsonAs(
    record.value.toString('utf8'),
    schema,
    `record ${record.partitionId}@${record.offset}`,
    (message, details, cause) => new PoisonRecordError(message, details, cause),
  );
}

/**
 * The raw bytes of a record's header: the last value when the name repeats, as Spring's `lastHeader`
 * and as `KafkaRecord.headers` (text) has it.
 */
export function recordHeader(record: KafkaRecord, name: string): Buffer | undefined {
  for (let i = record.rawHeaders.length - 1; i >= 0; i -= 1) {
    if (record.rawHeaders[i]!.name === name) return record.rawHeaders[i]!.value;
  }
  return undefined;
}

export type { Envelope };
