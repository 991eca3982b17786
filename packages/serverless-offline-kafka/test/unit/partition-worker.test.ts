import { buildEvent, eventSize, toLambdaRecord, type LambdaKafkaEvent, type LambdaKafkaRecord } from '../../src/event';
import { createRecordFilter } from '../../src/filter';
import type { InvocationReport } from '../../src/batch-delivery';
import type { FailureRecord } from '../../src/failure-destination';
import { PartitionWorker, highWaterMark, type PartitionWorkerDeps } from '../../src/partition-worker';
import { readEventSettings, readPluginOptions } from '../../src/settings';

const TOPIC = 'orders';
const ctx = { service: 'shop', stage: 'local', region: 'eu-west-1', defaultBrokers: ['127.0.0.1:9092'] };

/** A record of partition 0 as the event source hands it over; `ageMs` back-dates its timestamp. */
function record(offset: number, value: unknown = { n: offset }, ageMs = 0): LambdaKafkaRecord {
  return toLambdaRecord({
    topic: TOPIC,
    partition: 0,
    offset: String(offset),
    timestamp: String(Date.now() - ageMs),
    logAppendTime: false,
    key: Buffer.from(`k-${offset}`),
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
  });
}
const records = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => record(from + i));

type Handler = (offsets: number[], event: LambdaKafkaEvent) => unknown;

/**
 * A PartitionWorker with fakes around it: the handler is called with the offsets of each batch, and
 * every commit, failure record, invocation report and log line is kept in order.
 */
function setup(
  raw: Record<string, unknown>,
  handler: Handler = () => undefined,
  extra: Partial<PartitionWorkerDeps> = {},
) {
  const settings = readEventSettings(ctx, readPluginOptions({}), { key: 'worker' }, 'msk', {
    topic: TOPIC,
    maximumBatchingWindow: 0,
    ...raw,
  });
  const history: string[] = [];
  const batches: number[][] = [];
  const commits: number[] = [];
  const sent: { topic: string; failures: FailureRecord[] }[] = [];
  const reports: InvocationReport[] = [];
  const logs: { level: string; message: string }[] = [];
  let bufferLow = 0;
  let refusedWrites = 0;
  const deps: PartitionWorkerDeps = {
    settings,
    region: 'eu-west-1',
    invoke: async (event) => {
      const e = event as LambdaKafkaEvent;
      const offsets = Object.values(e.records)
        .flat()
        .map((r) => r.offset);
      batches.push(offsets);
      history.push(`invoke ${offsets.join(',')}`);
      return handler(offsets, e);
    },
    commit: async (offset) => {
      commits.push(offset);
      history.push(`commit ${offset}`);
    },
    sendFailures: async (topic, failures) => {
      if (refusedWrites > 0) {
        refusedWrites -= 1;
        history.push('write refused');
        throw new Error('NOT_ENOUGH_REPLICAS');
      }
      sent.push({ topic, failures });
      history.push(`failures ${failures.map((f) => f.record.offset).join(',')}`);
    },
    filter: createRecordFilter({ patterns: settings.filterPatterns }),
    backoff: { initialMs: 1, maxMs: 4 },
    onInvocation: (report) => reports.push(report),
    log: (level, message) => logs.push({ level, message }),
    onBufferLow: () => (bufferLow += 1),
    ...extra,
  };
  const worker = new PartitionWorker(deps, 0);
  return {
    settings,
    worker,
    history,
    batches,
    commits,
    sent,
    reports,
    logs,
    bufferLow: () => bufferLow,
    /** the destination refuses the next `n` writes */
    refuseWrites: (n: number) => (refusedWrites = n),
    /** wait until `offset` is committed, then a little more to see that nothing else happens */
    committed: async (offset: number) => {
      await waitFor(() => commits.includes(offset), `commit ${offset} (commits so far: ${commits.join(',')})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const failureBody = (f: FailureRecord) =>
  JSON.parse(f.value) as {
    requestContext: { condition: string; approximateInvokeCount: number };
    payload: LambdaKafkaEvent;
  };

const workers: PartitionWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
const track = <T extends { worker: PartitionWorker }>(h: T): T => {
  workers.push(h.worker);
  return h;
};

describe('PartitionWorker: batching', () => {
  test('batches by batchSize, in offset order, committing last offset + 1 after each', async () => {
    const h = track(setup({ batchSize: 3 }));
    h.worker.push(records(0, 7));
    await h.committed(7);
    expect(h.batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(h.commits).toEqual([3, 6, 7]);
    expect(h.history).toEqual(['invoke 0,1,2', 'commit 3', 'invoke 3,4,5', 'commit 6', 'invoke 6', 'commit 7']);
  });

  test('waits out the batching window from the oldest record, unless the batch fills first', async () => {
    const h = track(setup({ batchSize: 5, maximumBatchingWindow: 1 }));
    h.worker.push([record(0), record(1)]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.batches).toEqual([]);
    h.worker.push([record(2)]);
    await h.committed(3);
    expect(h.batches).toEqual([[0, 1, 2]]);

    const started = Date.now();
    h.worker.push(records(3, 8));
    await h.committed(8);
    expect(h.batches[1]).toEqual([3, 4, 5, 6, 7]);
    // a full batch does not wait for the 1 s window
    expect(Date.now() - started).toBeLessThan(800);
  });

  test('keeps every invocation within the payload limit', async () => {
    const big = (offset: number) => record(offset, { n: offset, pad: 'x'.repeat(1000) });
    const h = track(setup({ batchSize: 100 }, undefined, { maxPayloadBytes: 5000 }));
    h.worker.push(Array.from({ length: 10 }, (_, i) => big(i)));
    await h.committed(10);
    expect(h.batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(h.batches.length).toBeGreaterThan(2);
    for (const offsets of h.batches) {
      expect(eventSize(buildEvent(h.settings, offsets.map(big)))).toBeLessThanOrEqual(5000);
    }
  });

  test('a record larger than the payload limit goes to the destination without an invocation', async () => {
    const h = track(setup({ onFailureDestination: 'kafka://orders-dlq' }, undefined, { maxPayloadBytes: 3000 }));
    h.worker.push([record(0), record(1, { pad: 'x'.repeat(5000) }), record(2)]);
    await h.committed(3);
    expect(h.batches).toEqual([[0], [2]]);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.failures.map((f) => f.record.offset)).toEqual([1]);
    expect(failureBody(h.sent[0]!.failures[0]!).requestContext.condition).toBe('MaximumPayloadSizeExceeded');
    expect(h.history).toEqual(['invoke 0', 'commit 1', 'failures 1', 'commit 2', 'invoke 2', 'commit 3']);
  });
});

describe('PartitionWorker: failures', () => {
  test('a failing batch is invoked again, and nothing is committed until it succeeds', async () => {
    let attempts = 0;
    const h = track(
      setup({ batchSize: 2 }, (offsets) => {
        if (offsets.includes(2) && ++attempts < 4) throw new Error('database is down');
      }),
    );
    h.worker.push(records(0, 6));
    await h.committed(6);
    expect(h.batches).toEqual([
      [0, 1],
      [2, 3],
      [2, 3],
      [2, 3],
      [2, 3],
      [4, 5],
    ]);
    expect(h.commits).toEqual([2, 4, 6]);
    expect(h.reports.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, 'ok'],
      [1, 'error: database is down'],
      [2, 'error: database is down'],
      [3, 'error: database is down'],
      [4, 'ok'],
      [1, 'ok'],
    ]);
  });

  test('a partial batch response commits what precedes the lowest failure and delivers again from there', async () => {
    let first = true;
    const h = track(
      setup({ batchSize: 10, functionResponseType: 'ReportBatchItemFailures' }, () => {
        if (!first) return { batchItemFailures: [] };
        first = false;
        return {
          batchItemFailures: [3, 5].map((o) => ({ itemIdentifier: { partition: `${TOPIC}-0`, offset: String(o) } })),
        };
      }),
    );
    h.worker.push(records(0, 6));
    await h.committed(6);
    expect(h.batches).toEqual([
      [0, 1, 2, 3, 4, 5],
      [3, 4, 5],
    ]);
    expect(h.commits).toEqual([3, 6]);
    expect(h.reports[0]!.outcome).toBe('partial failure, again from offset 3');
  });

  test('a partial batch response naming a record not in the batch fails the whole batch', async () => {
    let calls = 0;
    const h = track(
      setup({ batchSize: 10, functionResponseType: 'ReportBatchItemFailures' }, () =>
        ++calls === 1 ? { batchItemFailures: [{ itemIdentifier: { partition: `${TOPIC}-0`, offset: '99' } }] } : {},
      ),
    );
    h.worker.push(records(0, 3));
    await h.committed(3);
    expect(h.batches).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
    expect(h.commits).toEqual([3]);
    expect(h.reports[0]!.outcome).toMatch(/batchItemFailures names a record that is not in the batch/);
  });

  test('without ReportBatchItemFailures a returned batchItemFailures is ignored', async () => {
    const h = track(
      setup({ batchSize: 10 }, () => ({
        batchItemFailures: [{ itemIdentifier: { partition: `${TOPIC}-0`, offset: '1' } }],
      })),
    );
    h.worker.push(records(0, 3));
    await h.committed(3);
    expect(h.batches).toEqual([[0, 1, 2]]);
  });

  test('retries exhausted: the batch goes to the failure destination, acknowledged before the commit', async () => {
    const h = track(
      setup({ batchSize: 3, maximumRetryAttempts: 2, onFailureDestination: 'kafka://orders-dlq' }, (offsets) => {
        if (offsets.includes(1)) throw new Error('poison');
      }),
    );
    h.refuseWrites(1);
    h.worker.push(records(0, 4));
    await h.committed(4);
    expect(h.batches).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2], [3]]);
    // the destination refused the first write: written again, and committed only once acknowledged
    expect(h.history).toEqual([
      'invoke 0,1,2',
      'invoke 0,1,2',
      'invoke 0,1,2',
      'write refused',
      'failures 0,1,2',
      'commit 3',
      'invoke 3',
      'commit 4',
    ]);
    expect(h.sent).toHaveLength(1);
    const [{ topic, failures }] = h.sent as [(typeof h.sent)[number]];
    expect(topic).toBe('orders-dlq');
    // keyed like the original record (base64 here, as in the event; decoded when produced)
    expect(failures.map((f) => [Buffer.from(f.key!, 'base64').toString(), f.record.offset])).toEqual([
      ['k-0', 0],
      ['k-1', 1],
      ['k-2', 2],
    ]);
    expect(failureBody(failures[0]!).requestContext).toMatchObject({
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    });
    expect(h.logs.some((l) => l.level === 'error' && /could not write to kafka:\/\/orders-dlq/.test(l.message))).toBe(
      true,
    );
  });

  test('retries exhausted without a destination: each record is logged in full, then committed', async () => {
    const h = track(
      setup({ batchSize: 2, maximumRetryAttempts: 1 }, () => {
        throw new Error('always');
      }),
    );
    h.worker.push(records(0, 2));
    await h.committed(2);
    expect(h.batches).toEqual([
      [0, 1],
      [0, 1],
    ]);
    const dropped = h.logs.filter((l) =>
      /record dropped \(RetriesExhausted\); no onFailureDestination/.test(l.message),
    );
    expect(dropped).toHaveLength(2);
    expect(dropped.every((l) => l.level === 'error')).toBe(true);
  });

  test('bisects a failing batch until the poison record is alone; the others are delivered', async () => {
    const h = track(
      setup(
        {
          batchSize: 4,
          bisectBatchOnFunctionError: true,
          maximumRetryAttempts: 3,
          onFailureDestination: 'kafka://dlq',
        },
        (offsets) => {
          if (offsets.includes(2)) throw new Error('poison at 2');
        },
      ),
    );
    h.worker.push(records(0, 4));
    await h.committed(4);
    expect(h.batches).toEqual([[0, 1, 2, 3], [0, 1], [2, 3], [2], [2], [3]]);
    expect(h.sent.flatMap((s) => s.failures.map((f) => f.record.offset))).toEqual([2]);
    expect(h.commits).toEqual([4]);
  });

  test('records older than maximumRecordAgeInSeconds go to the destination instead of the function', async () => {
    const h = track(setup({ batchSize: 10, maximumRecordAgeInSeconds: 60, onFailureDestination: 'kafka://dlq' }));
    h.worker.push([record(0, {}, 120_000), record(1), record(2, {}, 90_000), record(3)]);
    await h.committed(4);
    expect(h.batches).toEqual([[1, 3]]);
    expect(h.sent.flatMap((s) => s.failures.map((f) => f.record.offset))).toEqual([0, 2]);
    expect(failureBody(h.sent[0]!.failures[0]!).requestContext.condition).toBe('RecordAgeExceeded');
  });
});

describe('PartitionWorker: filters', () => {
  test('records that match no pattern are committed with the batch, not invoked', async () => {
    const h = track(setup({ batchSize: 2, filterPatterns: [{ value: { type: ['order.created'] } }] }));
    const typed = (offset: number, type: string) => record(offset, { type });
    h.worker.push([typed(0, 'order.created'), typed(1, 'order.paid'), typed(2, 'order.created'), typed(3, 'x')]);
    await h.committed(4);
    expect(h.batches).toEqual([[0, 2]]);
    // the batch [0, 2] took the filtered 1 with it; the filtered 3 alone is committed on its own
    expect(h.commits).toEqual([3, 4]);

    // a batch made only of filtered records is committed without an invocation
    h.worker.push([typed(4, 'order.paid'), typed(5, 'x')]);
    await h.committed(6);
    expect(h.batches).toHaveLength(1);
  });
});

describe('PartitionWorker: rebalance, stop and back-pressure', () => {
  test('reset() during an invocation: its success is not committed, buffered records are dropped', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = track(setup({ batchSize: 2 }, (offsets) => (offsets[0] === 0 ? gate : undefined)));
    h.worker.push(records(0, 6));
    await waitFor(() => h.batches.length === 1, 'the first invocation');
    h.worker.reset();
    release();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(h.commits).toEqual([]);
    expect(h.batches).toEqual([[0, 1]]);

    // kafkajs fetches again from the last commit: the records come again and are delivered
    h.worker.push(records(0, 2));
    await h.committed(2);
    expect(h.batches).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  test('reset() while a failing batch waits to be retried stops its retries, uncommitted', async () => {
    const h = track(
      setup({ batchSize: 2 }, () => {
        throw new Error('down');
      }),
    );
    h.worker.push(records(0, 2));
    await waitFor(() => h.batches.length >= 2, 'a retry');
    h.worker.reset();
    const after = h.batches.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.batches.length).toBeLessThanOrEqual(after + 1);
    expect(h.commits).toEqual([]);
  });

  test('stop() lets the invocation in flight finish and commits it; nothing after it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = setup({ batchSize: 2 }, (offsets) => (offsets[0] === 0 ? gate : undefined));
    h.worker.push(records(0, 6));
    await waitFor(() => h.batches.length === 1, 'the first invocation');
    const stopped = h.worker.stop();
    release();
    await stopped;
    expect(h.batches).toEqual([[0, 1]]);
    expect(h.commits).toEqual([2]);
  });

  test('stop() during retries leaves the batch uncommitted and returns promptly', async () => {
    const h = setup(
      { batchSize: 2 },
      () => {
        throw new Error('down');
      },
      { backoff: { initialMs: 10_000, maxMs: 10_000 } },
    );
    h.worker.push(records(0, 2));
    await waitFor(() => h.batches.length === 1, 'the first attempt');
    const started = Date.now();
    await h.worker.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(h.commits).toEqual([]);
  });

  test('is full at the high-water mark, and says so when the buffer runs low again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = track(setup({ batchSize: 100 }, (offsets) => (offsets[0] === 0 ? gate : undefined)));
    const high = highWaterMark(100).records;
    h.worker.push(records(0, high + 100));
    await waitFor(() => h.batches.length === 1, 'the first invocation');
    expect(h.worker.full).toBe(true);
    expect(h.bufferLow()).toBe(0);
    release();
    await h.committed(high + 100);
    expect(h.worker.full).toBe(false);
    expect(h.bufferLow()).toBeGreaterThan(0);
    expect(h.batches.flat()).toEqual(Array.from({ length: high + 100 }, (_, i) => i));
  });

  test('a commit waiting behind a slow one is replaced by the newer offset; commits stay in order', async () => {
    let releaseCommit!: () => void;
    const slow = new Promise<void>((resolve) => (releaseCommit = resolve));
    const commits: number[] = [];
    const h = track(
      setup({ batchSize: 1 }, undefined, {
        commit: async (offset) => {
          commits.push(offset);
          if (offset === 1) await slow;
        },
      }),
    );
    h.worker.push(records(0, 4));
    await waitFor(() => h.batches.length === 4, 'four invocations');
    expect(commits).toEqual([1]);
    releaseCommit();
    await waitFor(() => commits.includes(4), 'the last commit');
    expect(commits).toEqual([1, 4]);
  });
});
