import { toLambdaRecord } from '../../src/event';
import { readEventSettings, readPluginOptions, type EventSourceSettings } from '../../src/settings';

/** What the plugin knows of the service while it reads an event (serverless.yml's service, stage, region). */
export const ctx = { service: 'shop', stage: 'local', region: 'eu-west-1', defaultBrokers: ['127.0.0.1:9092'] };
export const options = readPluginOptions({});

/** The settings of an `msk` event of the function `worker` on order-events, with `raw` on top. */
export const mskSettings = (raw: Record<string, unknown> = {}): EventSourceSettings =>
  readEventSettings(ctx, options, { key: 'worker' }, 'msk', {
    arn: 'arn:aws:kafka:eu-west-1:1:cluster/c/u',
    topic: 'order-events',
    ...raw,
  });
export const msk = mskSettings();

/** A record of order-events partition 3 at offset 42, as the event source hands it to a worker. */
export const record = toLambdaRecord({
  topic: 'order-events',
  partition: 3,
  offset: '42',
  timestamp: '1763800000123',
  logAppendTime: false,
  key: Buffer.from('k'),
  value: Buffer.from('{"a":1}'),
  headers: { trace: Buffer.from([0xdc, 0x00, 0x7f, 0x80]), dup: [Buffer.from('a'), Buffer.from('b')] },
});
