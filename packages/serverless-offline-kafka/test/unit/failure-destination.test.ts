import { FailureDestination, toFailureRecord, type FailureRecord } from '../../src/failure-destination';
import { msk, mskSettings, record } from './samples';

describe('failure records', () => {
  it('follow AWS failure-record format and keep the original key', () => {
    const failure = toFailureRecord(msk, 'eu-west-1', record, 3, {
      condition: 'RetriesExhausted',
      invokeCount: 4,
      functionError: 'boom',
    });
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

describe('FailureDestination', () => {
  const reason = { condition: 'RetriesExhausted', invokeCount: 3, functionError: 'boom' } as const;

  function destination(raw: Record<string, unknown>, refuse = 0) {
    const sent: { topic: string; failures: FailureRecord[] }[] = [];
    const logs: string[] = [];
    let refused = 0;
    const dest = new FailureDestination(
      {
        settings: mskSettings(raw),
        region: 'eu-west-1',
        backoff: { initialMs: 1, maxMs: 4 },
        log: (level, message) => logs.push(`${level}: ${message}`),
        sendFailures: async (topic, failures) => {
          if (refused < refuse) {
            refused += 1;
            throw new Error('NOT_ENOUGH_REPLICAS');
          }
          sent.push({ topic, failures });
        },
      },
      'order-events-3',
    );
    return { dest, sent, logs, refused: () => refused };
  }

  it('writes one failure record per record to a kafka:// destination, retrying until the broker takes them', async () => {
    const { dest, sent, logs } = destination({ onFailureDestination: 'kafka://orders-dlq' }, 2);
    const records = [record, { ...record, offset: 43 }];
    await expect(dest.handOver(records, reason, new AbortController().signal, () => true)).resolves.toBe(true);
    expect(sent.map((s) => [s.topic, s.failures.map((f) => f.record.offset)])).toEqual([['orders-dlq', [42, 43]]]);
    expect(logs.filter((l) => l.startsWith('error: could not write to kafka://orders-dlq'))).toHaveLength(2);
    expect(logs.at(-1)).toBe(
      'warning: order-events-3: 2 record(s) from offset 42 sent to kafka://orders-dlq (RetriesExhausted)',
    );
  });

  it('drops the records without a Kafka destination, as AWS does, each logged in full first', async () => {
    const { dest, sent, logs } = destination({});
    await expect(dest.handOver([record], reason, new AbortController().signal, () => true)).resolves.toBe(true);
    expect(sent).toEqual([]);
    expect(logs).toEqual([
      expect.stringMatching(
        /^error: order-events-3 offset \d+: record dropped \(RetriesExhausted\); no onFailureDestination is configured: \{/,
      ),
    ]);
  });

  it('gives up, handing nothing over, when the delivery is no longer wanted or is aborted while retrying', async () => {
    const unwanted = destination({ onFailureDestination: 'kafka://orders-dlq' }, 1);
    await expect(unwanted.dest.handOver([record], reason, new AbortController().signal, () => false)).resolves.toBe(
      false,
    );
    expect(unwanted.refused()).toBe(0);

    const aborted = destination({ onFailureDestination: 'kafka://orders-dlq' }, 100);
    const abort = new AbortController();
    const handed = aborted.dest.handOver([record], reason, abort.signal, () => true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    abort.abort();
    await expect(handed).resolves.toBe(false);
    expect(aborted.sent).toEqual([]);
  });
});
