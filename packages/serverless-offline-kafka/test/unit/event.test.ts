import { buildEvent, recordSize } from '../../src/event';
import { readEventSettings } from '../../src/settings';
import { ctx, msk, options, record } from './samples';

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

describe('recordSize', () => {
  it('equals the bytes of the record JSON plus a comma, with and without key and headers', () => {
    const bare = { ...record, headers: [] };
    delete (bare as { key?: string }).key;
    for (const r of [record, bare, { ...record, headers: [{ 'ü-name': [1, -2] }] }]) {
      expect(recordSize(r)).toBe(Buffer.byteLength(JSON.stringify(r)) + 1);
    }
  });
});
