import { buildEvent, recordSize, toLambdaRecord } from '../../src/event';
import { readBatchItemFailures, toFailureRecord } from '../../src/partition-worker';
import { readEventSettings, readPluginOptions } from '../../src/settings';

const ctx = { service: 'shop', stage: 'local', region: 'eu-west-1', defaultBrokers: ['127.0.0.1:9092'] };
const options = readPluginOptions({});
const msk = readEventSettings(ctx, options, { key: 'worker' }, 'msk', {
  arn: 'arn:aws:kafka:eu-west-1:1:cluster/c/u',
  topic: 'order-events',
});

const record = toLambdaRecord({
  topic: 'order-events',
  partition: 3,
  offset: '42',
  timestamp: '1763800000123',
  logAppendTime: false,
  key: Buffer.from('k'),
  value: Buffer.from('{"a":1}'),
  headers: { trace: Buffer.from([0xdc, 0x00, 0x7f, 0x80]), dup: [Buffer.from('a'), Buffer.from('b')] },
});

describe('AWS event shape', () => {
  it('converts a record: numbers, base64, signed-byte headers, repeated header names kept in order', () => {
    expect(record).toEqual({
      topic: 'order-events',
      partition: 3,
      offset: 42,
      timestamp: 1763800000123,
      timestampType: 'CREATE_TIME',
      key: 'aw==',
      value: Buffer.from('{"a":1}').toString('base64'),
      headers: [{ trace: [-36, 0, 127, -128] }, { dup: [97] }, { dup: [98] }],
    });
  });

  it('groups records by topic-partition and sets eventSource per event kind', () => {
    expect(buildEvent(msk, [record])).toEqual({
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:aws:kafka:eu-west-1:1:cluster/c/u',
      bootstrapServers: '127.0.0.1:9092',
      records: { 'order-events-3': [record] },
    });
    const selfManaged = readEventSettings(ctx, options, { key: 'w' }, 'kafka', {
      topic: 'order-events',
      bootstrapServers: ['b1:9092', 'b2:9092'],
    });
    expect(buildEvent(selfManaged, [record])).toEqual({
      eventSource: 'SelfManagedKafka',
      bootstrapServers: 'b1:9092,b2:9092',
      records: { 'order-events-3': [record] },
    });
  });
});

describe('settings', () => {
  it('applies AWS defaults and derives a stable group id', () => {
    expect(msk).toMatchObject({
      batchSize: 100,
      batchingWindowMs: 500,
      startingPosition: 'TRIM_HORIZON',
      enabled: true,
      maximumRetryAttempts: -1,
      maximumRecordAgeSeconds: -1,
      groupId: 'shop-local-worker-order-events',
    });
  });

  it('keeps window 0, reads numeric strings from ${env:} variables, and rejects a batch size over 10,000', () => {
    const s = readEventSettings(ctx, options, { key: 'w' }, 'msk', {
      topic: 't',
      maximumBatchingWindow: 0,
      batchSize: '250',
    });
    expect(s).toMatchObject({ batchingWindowMs: 0, batchSize: 250 });
    expect(() => readEventSettings(ctx, options, { key: 'w' }, 'msk', { topic: 't', batchSize: 10_001 })).toThrow(
      /function "w", msk event: batchSize must be 1-10000/,
    );
  });

  it('the plugin option brokers overrides a kafka event bootstrapServers', () => {
    const s = readEventSettings(ctx, readPluginOptions({ brokers: 'h:1,h:2' }), { key: 'w' }, 'kafka', {
      topic: 't',
      bootstrapServers: ['far:9092'],
    });
    expect(s.brokers).toEqual(['h:1', 'h:2']);
  });
});

describe('plugin options', () => {
  it('leaves the invocation mode to serverless-offline unless useInProcess is set, and refuses anything but a boolean', () => {
    expect(readPluginOptions({}).useInProcess).toBeUndefined();
    expect(readPluginOptions({ useInProcess: false }).useInProcess).toBe(false);
    expect(readPluginOptions({ useInProcess: true }).useInProcess).toBe(true);
    expect(() => readPluginOptions({ useInProcess: 'false' })).toThrow(/useInProcess: must be true or false/);
  });
});

describe('partial batch responses', () => {
  const batch = [record, { ...record, offset: 43 }, { ...record, offset: 44 }];
  it.each([[null], [undefined], [{}], [{ batchItemFailures: [] }], ['ok']])('%j means all succeeded', (result) => {
    expect(readBatchItemFailures(result, batch)).toEqual({ kind: 'ok' });
  });

  it('returns the lowest failed offset', () => {
    const result = {
      batchItemFailures: [
        { itemIdentifier: { partition: 'order-events-3', offset: 44 } },
        { itemIdentifier: { partition: 'order-events-3', offset: 43 } },
      ],
    };
    expect(readBatchItemFailures(result, batch)).toEqual({ kind: 'partial', fromOffset: 43 });
  });

  it('an unknown identifier fails the whole batch', () => {
    const outcome = readBatchItemFailures(
      { batchItemFailures: [{ itemIdentifier: { partition: 'order-events-2', offset: 43 } }] },
      batch,
    );
    expect(outcome).toMatchObject({ kind: 'error', message: expect.stringContaining('not in the batch') });
  });
});

describe('failure records', () => {
  it('follow AWS failure-record format and keep the original key', () => {
    const failure = toFailureRecord(msk, 'eu-west-1', record, 3, 'RetriesExhausted', 4, 'boom');
    expect(failure.key).toBe(record.key);
    expect(JSON.parse(failure.value)).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 4 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      KafkaBatchInfo: {
        batchSize: 3,
        eventSourceArn: msk.eventSourceArn,
        recordInfo: { offset: '42', timestamp: new Date(1763800000123).toISOString() },
      },
      payload: { records: { 'order-events-3': [record] } },
    });
  });
});

describe('recordSize', () => {
  it('equals the bytes of the record JSON plus a comma, with and without key and headers', () => {
    const bare = { ...record, headers: [] };
    delete (bare as { key?: string }).key;
    for (const r of [record, bare, { ...record, headers: [{ 'ü-name': [1, -2] }] }]) {
      expect(recordSize(r)).toBe(Buffer.byteLength(JSON.stringify(r)) + 1);
    }
  });
});
