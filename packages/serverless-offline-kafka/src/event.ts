import type { EventSourceSettings } from './settings';

/** One Kafka record as the local event source holds it (what kafkajs delivers, plus where it came from). */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  /** kafkajs reports the batch's timestamp type through the record attributes */
  logAppendTime: boolean;
  key: Buffer | null;
  value: Buffer | null;
  /** kafkajs's header object: a repeated name holds an array of values */
  headers: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
}

/** One record in the Lambda event, as AWS writes it (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html). */
export interface LambdaKafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  key?: string;
  value: string;
  headers: Array<Record<string, number[]>>;
  /** with a schema registry: the format and schema id of the key and value it deserialized */
  keySchemaMetadata?: SchemaMetadata;
  valueSchemaMetadata?: SchemaMetadata;
}

/** As Lambda writes it for a record deserialized with a schema registry. */
export interface SchemaMetadata {
  dataFormat: 'AVRO' | 'PROTOBUF' | 'JSON';
  /** the registry's schema id, as a string */
  schemaId: string;
}

export interface LambdaKafkaEvent {
  eventSource: 'aws:kafka' | 'SelfManagedKafka';
  eventSourceArn?: string;
  bootstrapServers: string;
  records: Record<string, LambdaKafkaRecord[]>;
}

/** Header bytes as Java's signed bytes (-128..127), which is how AWS serialises them. */
function signedBytes(value: Buffer | string | undefined): number[] {
  const bytes = typeof value === 'string' ? Buffer.from(value) : (value ?? Buffer.alloc(0));
  return Array.from(bytes, (b) => (b > 127 ? b - 256 : b));
}

/** Convert one record to AWS's shape: base64 key and value, millisecond timestamp, signed-byte headers. */
export function toLambdaRecord(record: SourceRecord): LambdaKafkaRecord {
  const out: LambdaKafkaRecord = {
    topic: record.topic,
    partition: record.partition,
    offset: Number(record.offset),
    timestamp: Number(record.timestamp),
    timestampType: record.logAppendTime ? 'LOG_APPEND_TIME' : 'CREATE_TIME',
    // a record without a key has no `key` field in the event (Powertools' schema: key optional, not nullable)
    ...(record.key ? { key: record.key.toString('base64') } : {}),
    // a tombstone (null value) is sent as an empty value: the event has no way to tell them apart
    value: (record.value ?? Buffer.alloc(0)).toString('base64'),
    headers: Object.entries(record.headers).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => ({ [name]: signedBytes(v) })),
    ),
  };
  return out;
}

/** Where an event's records come from: an `msk` cluster (its ARN) or a self-managed `kafka` cluster. */
export type EventOrigin = Pick<EventSourceSettings, 'kind' | 'eventSourceArn' | 'bootstrapServers'>;

/** The invocation event for records of one or more partitions, keyed `topic-partition` as on AWS. */
export function buildEvent(settings: EventOrigin, records: LambdaKafkaRecord[]): LambdaKafkaEvent {
  const grouped: Record<string, LambdaKafkaRecord[]> = {};
  for (const r of records) (grouped[`${r.topic}-${r.partition}`] ??= []).push(r);
  return settings.kind === 'msk'
    ? {
        eventSource: 'aws:kafka',
        eventSourceArn: settings.eventSourceArn,
        bootstrapServers: settings.bootstrapServers,
        records: grouped,
      }
    : { eventSource: 'SelfManagedKafka', bootstrapServers: settings.bootstrapServers, records: grouped };
}

/** Bytes of the JSON the event would take, the measure of AWS's 6 MB invocation payload limit. */
export function eventSize(event: LambdaKafkaEvent): number {
  return Buffer.byteLength(JSON.stringify(event));
}

/** JSON of a record without its variable parts: `{"topic":"","partition":,...,"headers":}` */
const RECORD_JSON_OVERHEAD = '{"topic":"","partition":,"offset":,"timestamp":,"timestampType":"","value":"","headers":}'
  .length;
const KEY_JSON_OVERHEAD = ',"key":""'.length;

/**
 * Bytes one record adds to an event (its JSON plus the separating comma), the measure of AWS's
 * 6 MB invocation limit. Counted from the parts rather than by JSON.stringify: it runs for every
 * record and stringifying each one cost more than the rest of the conversion. Topic names
 * ([a-zA-Z0-9._-]), numbers and base64 are ASCII and need no escaping.
 */
export function recordSize(record: LambdaKafkaRecord): number {
  const digits = (n: number) => String(n).length;
  return (
    RECORD_JSON_OVERHEAD +
    record.topic.length +
    digits(record.partition) +
    digits(record.offset) +
    digits(record.timestamp) +
    record.timestampType.length +
    record.value.length +
    (record.key === undefined ? 0 : KEY_JSON_OVERHEAD + record.key.length) +
    (record.headers.length === 0 ? 2 : Buffer.byteLength(JSON.stringify(record.headers))) +
    1
  );
}
