import { z } from 'zod';
import { ValidationError } from '../../../lib/errors';
import {
  decodeKafkaEvent,
  KafkaEventError,
  parseJsonRecord,
  PoisonRecordError,
  type KafkaEvent,
} from '../../../lib/kafka/records';
import signedHeaders from '../../fixtures/kafka-events/msk-signed-header-bytes.json';
import missingKeys from '../../fixtures/kafka-events/msk-missing-and-null-keys.json';
import selfManaged from '../../fixtures/kafka-events/self-managed.json';
import ordersBatch from '../../fixtures/kafka-events/orders-batch.json';

const asEvent = (json: unknown) => json as KafkaEvent;

describe('decodeKafkaEvent', () => {
  it('decodes base64 keys and values and signed header bytes of an MSK event', () => {
    // Prepare
    const event = asEvent(signedHeaders);

    // Act
    const [record] = decodeKafkaEvent(event);

    // Assess
    expect(record).toMatchObject({
      topic: 'AWSKafkaTopic',
      partition: 0,
      offset: 0,
      timestamp: 1595035749700,
      timestampType: 'CREATE_TIME',
      key: '8d5596b4-1813-4238-b24b-6dad8e3d1c0c',
      partitionId: 'AWSKafkaTopic-0',
    });
    expect(record!.value.toString('utf8')).toBe('8d5596b4-1813-4238-b24b-6dad8e3d1c0c');
    // [118, -36, 0, 127, -128] are Java bytes: -36 is 0xdc, -128 is 0x80
    expect([...record!.rawHeaders[0]!.value]).toEqual([118, 0xdc, 0, 127, 0x80]);
    expect(record!.rawHeaders[0]!.name).toBe('headerKey');
  });

  it('gives null for a record whose key is missing or null', () => {
    // Act
    const records = decodeKafkaEvent(asEvent(missingKeys));

    // Assess
    expect(records.map((r) => r.key)).toEqual(['recordKey', null, null]);
    expect(records.map((r) => r.keyBytes)).toEqual([Buffer.from('recordKey'), null, null]);
  });

  it('decodes a self-managed Kafka event (no eventSourceArn)', () => {
    // Act
    const [record] = decodeKafkaEvent(asEvent(selfManaged));

    // Assess
    expect(JSON.parse(record!.value.toString('utf8'))).toEqual({ key: 'value' });
    expect(record!.headers).toEqual({ headerKey: 'headerValue' });
  });

  it('keeps every partition of a batch, each in offset order', () => {
    // Act
    const records = decodeKafkaEvent(asEvent(ordersBatch));

    // Assess
    expect(records.map((r) => `${r.partitionId}@${r.offset}`)).toEqual([
      'orders-0@40',
      'orders-0@41',
      'orders-0@42',
      'orders-3@7',
      'orders-3@8',
    ]);
    expect(records[0]!.headers['correlation-id']).toBe('corr-1');
  });

  it('refuses an event that is not a Kafka event, saying what it got', () => {
    // Prepare
    const sqsLike = { Records: [{ eventSource: 'aws:sqs' }] } as unknown as KafkaEvent;

    // Act + Assess
    expect(() => decodeKafkaEvent(sqsLike)).toThrow(KafkaEventError);
    expect(() => decodeKafkaEvent(sqsLike)).toThrow(/expected a Kafka event .* got eventSource undefined/);
  });
});

describe('parseJsonRecord', () => {
  const schema = z.object({ id: z.string(), count: z.number().int() });
  const [valid, notJson] = decodeKafkaEvent(asEvent(ordersBatch));

  it('returns the value parsed and validated', () => {
    // Prepare
    const record = { ...valid!, value: Buffer.from('{"id":"a","count":2}') };

    // Act + Assess
    expect(parseJsonRecord(record, schema)).toEqual({ id: 'a', count: 2 });
  });

  it('marks a value that is not JSON as a poison record, naming where it is', () => {
    // Act
    const error = catchError(() => parseJsonRecord(notJson!, schema));

    // Assess
    expect(error).toBeInstanceOf(PoisonRecordError);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as PoisonRecordError).retriable).toBe(false);
    expect((error as Error).message).toMatch(/^record orders-0@41 is not valid JSON \(/);
    // the reason, without V8's echo of the value
    expect((error as Error).message).not.toMatch(/is not valid JSON\)?$/s);
  });

  it('lists every schema problem with its path', () => {
    // Prepare
    const record = { ...valid!, value: Buffer.from('{"count":1.5}') };

    // Act
    const error = catchError(() => parseJsonRecord(record, schema)) as PoisonRecordError;

    // Assess
    expect(error).toBeInstanceOf(PoisonRecordError);
    expect(error.details).toEqual([
      { path: 'id', message: expect.any(String) },
      { path: 'count', message: expect.any(String) },
    ]);
    expect(error.message).toMatch(/^record orders-0@40 is invalid: id: .*; count: /);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
