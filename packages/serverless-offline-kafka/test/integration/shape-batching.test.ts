import {
  KafkaMskEventSchema,
  KafkaRecordSchema,
  KafkaSelfManagedEventSchema,
} from '@aws-lambda-powertools/parser/schemas/kafka';
import { z } from 'zod';
import { BROKERS, consumeRecords, createTopic, deleteTopics, uniqueName, waitFor } from '../helpers/kafka';
import type { OfflineProcess } from '../helpers/offline';
import { createReport, instructions, produce, starts, startFixture, type ReportEntry } from './fixture';

/**
 * The event source shapes and batches like AWS: the event has AWS's shape, and records are batched
 * by batchSize, batching window and the 6 MB payload limit. One `serverless offline` for the file.
 */
/**
 * Powertools' record schema decodes header bytes with String.fromCodePoint, which throws on the
 * negative (signed Java) bytes AWS sends for values >= 0x80 (aws-lambda-go's kafka test event holds
 * -36, -128). Everything else is Powertools' schema as published; headers are checked as signed bytes.
 */
const RecordSchema = KafkaRecordSchema.extend({
  headers: z.array(z.record(z.string(), z.array(z.number().int().min(-128).max(127)))),
});
const Records = z.record(z.string(), z.array(RecordSchema).nonempty());
const MskEventSchema = KafkaMskEventSchema.extend({ records: Records });
const SelfManagedEventSchema = KafkaSelfManagedEventSchema.extend({ records: Records });

const MSK_ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/local-cluster/abcd-1234';
const MB = 1024 * 1024;

interface EventRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: string;
  key?: string;
  value: string;
  headers: Array<Record<string, number[]>>;
}
interface KafkaEvent {
  eventSource: string;
  eventSourceArn?: string;
  bootstrapServers: string;
  records: Record<string, EventRecord[]>;
}

const topics = {
  TOPIC_SHAPE: uniqueName('es-shape-topic'),
  TOPIC_BATCH: uniqueName('es-batch'),
  TOPIC_WINDOW: uniqueName('es-window'),
  TOPIC_LARGE: uniqueName('es-large'),
  TOPIC_LARGE_DLQ: uniqueName('es-large-dlq'),
};
const report = createReport();
let offline: OfflineProcess;

beforeAll(async () => {
  await createTopic(topics.TOPIC_SHAPE, 2);
  await createTopic(topics.TOPIC_BATCH, 1);
  await createTopic(topics.TOPIC_WINDOW, 1);
  await createTopic(topics.TOPIC_LARGE, 1, { 'max.message.bytes': String(8 * MB) });
  await createTopic(topics.TOPIC_LARGE_DLQ, 1, { 'max.message.bytes': String(10 * MB) });
  offline = await startFixture('shape.yml', { ...topics, REPORT_FILE: report.file });
}, 150_000);

afterAll(async () => {
  await offline?.stop();
  await deleteTopics(Object.values(topics));
  report.cleanup();
});

const eventsOf = (fn: string): KafkaEvent[] => starts(report.entries(), fn).map((e) => e.event as KafkaEvent);
const recordsOf = (fn: string): EventRecord[] => eventsOf(fn).flatMap((e) => Object.values(e.records).flat());

describe('event shape', () => {
  const created = Date.now() - 60_000;
  const text = 'héllo – 日本語 🚀';

  beforeAll(async () => {
    await produce(topics.TOPIC_SHAPE, [
      {
        partition: 0,
        key: 'order-1',
        value: instructions('shape-1', { text }),
        timestamp: String(created),
        headers: { 'content-type': 'application/json', bin: Buffer.from([0x00, 0x7f, 0x80, 0xff]) },
      },
      { partition: 0, key: null, value: '', timestamp: String(created + 1) },
      { partition: 0, key: Buffer.from([0xde, 0xad]), value: text, timestamp: String(created + 2) },
    ]);
    await waitFor(() => recordsOf('mskShape').length >= 3 && recordsOf('kafkaShape').length >= 3, {
      timeoutMs: 60_000,
      what: 'both functions to receive the 3 records',
    });
  });

  it('an msk event passes the Powertools MSK schema and carries the cluster ARN', () => {
    for (const event of eventsOf('mskShape')) {
      expect(() => MskEventSchema.parse(event)).not.toThrow();
      expect(event.eventSource).toBe('aws:kafka');
      expect(event.eventSourceArn).toBe(MSK_ARN);
      expect(event.bootstrapServers).toBe(BROKERS.join(','));
    }
  });

  it('a kafka event passes the Powertools self-managed schema and has no ARN', () => {
    for (const event of eventsOf('kafkaShape')) {
      expect(() => SelfManagedEventSchema.parse(event)).not.toThrow();
      expect(event.eventSource).toBe('SelfManagedKafka');
      expect(event).not.toHaveProperty('eventSourceArn');
    }
  });

  it('records are keyed topic-partition (the topic has hyphens) and hold base64 keys and values', () => {
    for (const event of [...eventsOf('mskShape'), ...eventsOf('kafkaShape')]) {
      expect(Object.keys(event.records)).toEqual([`${topics.TOPIC_SHAPE}-0`]);
    }
    const [first, empty, binaryKey] = recordsOf('mskShape');
    expect(first).toMatchObject({ topic: topics.TOPIC_SHAPE, partition: 0, offset: 0, timestampType: 'CREATE_TIME' });
    expect(first!.timestamp).toBe(created);
    expect(Buffer.from(first!.key!, 'base64').toString()).toBe('order-1');
    expect(JSON.parse(Buffer.from(first!.value, 'base64').toString('utf8'))).toEqual({ id: 'shape-1', text });
    // a record without a key has no key field; an empty value is an empty string
    expect(empty).not.toHaveProperty('key');
    expect(empty).toMatchObject({ offset: 1, value: '', headers: [], timestamp: created + 1 });
    expect(Buffer.from(binaryKey!.key!, 'base64')).toEqual(Buffer.from([0xde, 0xad]));
    expect(Buffer.from(binaryKey!.value, 'base64').toString('utf8')).toBe(text);
  });

  it('headers are a list of one-key objects holding signed bytes', () => {
    const [first] = recordsOf('mskShape');
    expect(first!.headers).toEqual([
      { 'content-type': [...Buffer.from('application/json')] },
      { bin: [0, 127, -128, -1] },
    ]);
    expect(Buffer.from(first!.headers[1]!.bin!)).toEqual(Buffer.from([0x00, 0x7f, 0x80, 0xff]));
  });

  it('logs one line per invocation with function, partition, offsets, records, attempt, duration and outcome', async () => {
    // written once the invocation has returned, which can be a moment after its records were reported
    await offline.waitForOutput(
      new RegExp(
        `kafka: mskShape ${topics.TOPIC_SHAPE}-0 offsets? 0(\\.\\.\\d+)? \\(\\d+ records\\) attempt 1 \\d+ ms ok`,
      ),
      10_000,
    );
  });
});

describe('batching', () => {
  it('batchSize caps every invocation; a full batch does not wait for the window', async () => {
    await produce(
      topics.TOPIC_BATCH,
      Array.from({ length: 25 }, (_, i) => ({ value: instructions(`b${i}`) })),
    );
    const invocations = (await waitFor(
      () => {
        const s = starts(report.entries(), 'batched');
        return s.flatMap((e) => e.records).length >= 25 && s;
      },
      { timeoutMs: 60_000, what: '25 records delivered to batched' },
    )) as ReportEntry[];
    const sizes = invocations.map((e) => e.records.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(sizes.filter((n) => n === 10).length).toBeGreaterThanOrEqual(2);
    expect(invocations.flatMap((e) => e.records.map((r) => r.offset))).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('records arriving within the batching window go in one invocation', async () => {
    for (const id of ['w1', 'w2', 'w3']) await produce(topics.TOPIC_WINDOW, [{ value: instructions(id) }]);
    const [invocation] = (await waitFor(
      () => starts(report.entries(), 'windowed').length > 0 && starts(report.entries(), 'windowed'),
      {
        timeoutMs: 60_000,
        what: 'an invocation of windowed',
      },
    )) as ReportEntry[];
    expect(invocation!.records.map((r) => r.id)).toEqual(['w1', 'w2', 'w3']);
  });

  it('a batch over 6 MB is split; a single record over 6 MB goes to the on-failure destination', async () => {
    const big = (id: string, bytes: number) => JSON.stringify({ id, pad: 'x'.repeat(bytes) });
    await produce(
      topics.TOPIC_LARGE,
      [1, 2, 3, 4].map((n) => ({ key: `k${n}`, value: big(`l${n}`, 1.5 * MB) })),
    );
    await produce(topics.TOPIC_LARGE, [{ key: 'too-big', value: big('l5', 5 * MB) }]);
    const [failure] = await consumeRecords(topics.TOPIC_LARGE_DLQ, 1, { timeoutMs: 60_000 });
    const invocations: ReportEntry[] = starts(report.entries(), 'large');
    expect(invocations.flatMap((e) => e.records.map((r) => r.id))).toEqual(['l1', 'l2', 'l3', 'l4']);
    expect(invocations.length).toBeGreaterThan(1);
    for (const e of invocations) expect(e.size).toBeLessThanOrEqual(6 * MB);

    expect(failure!.key?.toString()).toBe('too-big');
    const body = JSON.parse(failure!.value!.toString());
    expect(body.requestContext.condition).toBe('MaximumPayloadSizeExceeded');
    expect(body.KafkaBatchInfo).toMatchObject({
      eventSourceArn: MSK_ARN,
      bootstrapServers: BROKERS.join(','),
      recordInfo: { offset: '4' },
    });
    const [record] = body.payload.records[`${topics.TOPIC_LARGE}-0`];
    expect(record.offset).toBe(4);
    expect(JSON.parse(Buffer.from(record.value, 'base64').toString()).id).toBe('l5');
  });
});
