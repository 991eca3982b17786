import { AppError, BrokerUnavailableError } from '../../../lib/errors';
import { BatchFailedError, processKafkaBatch, type DeadLetterSink } from '../../../lib/kafka/batch';
import { decodeKafkaEvent, PoisonRecordError, type KafkaEvent, type KafkaRecord } from '../../../lib/kafka/records';
import ordersBatch from '../../fixtures/kafka-events/orders-batch.json';

const records = () => decodeKafkaEvent(ordersBatch as unknown as KafkaEvent);
const at = (r: KafkaRecord) => `${r.partitionId}@${r.offset}`;

/** A record handler that records what it saw and fails the records named in `failures`. */
function recordingHandler(failures: Record<string, Error> = {}) {
  const seen: string[] = [];
  return {
    seen,
    handler: async (record: KafkaRecord) => {
      seen.push(at(record));
      const failure = failures[at(record)];
      if (failure) throw failure;
    },
  };
}

describe('processKafkaBatch', () => {
  it('processes every record, each partition in offset order', async () => {
    // Prepare
    const shuffled = records().reverse();
    const { seen, handler } = recordingHandler();

    // Act
    const response = await processKafkaBatch(shuffled, handler, { reportBatchItemFailures: true });

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen.filter((s) => s.startsWith('orders-0@'))).toEqual(['orders-0@40', 'orders-0@41', 'orders-0@42']);
    expect(seen.filter((s) => s.startsWith('orders-3@'))).toEqual(['orders-3@7', 'orders-3@8']);
  });

  it('runs partitions in parallel: one partition waiting does not hold another', async () => {
    // Prepare: partition 0's first record only finishes once partition 3 has started
    let partition3Started!: () => void;
    const started = new Promise<void>((resolve) => (partition3Started = resolve));
    const handler = async (record: KafkaRecord) => {
      if (record.partition === 3) partition3Started();
      if (at(record) === 'orders-0@40') await started;
    };

    // Act + Assess: sequential processing would never resolve (and the test would time out)
    await expect(processKafkaBatch(records(), handler, { reportBatchItemFailures: true })).resolves.toEqual({
      batchItemFailures: [],
    });
  });

  it('a failing record fails the rest of its partition, untried, and the other partitions go on', async () => {
    // Prepare
    const { seen, handler } = recordingHandler({ 'orders-0@41': new BrokerUnavailableError('broker down') });

    // Act
    const response = await processKafkaBatch(records(), handler, { reportBatchItemFailures: true });

    // Assess: AWS's Kafka format, object identifiers; 42 is delivered again after 41, never before
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: { partition: 'orders-0', offset: 41 } },
      { itemIdentifier: { partition: 'orders-0', offset: 42 } },
    ]);
    expect(seen).not.toContain('orders-0@42');
    expect(seen).toEqual(expect.arrayContaining(['orders-3@7', 'orders-3@8']));
  });

  it('an unexpected error is retried too (it might be transient)', async () => {
    // Prepare
    const { handler } = recordingHandler({ 'orders-3@8': new TypeError('x is undefined') });

    // Act
    const response = await processKafkaBatch(records(), handler, { reportBatchItemFailures: true });

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'orders-3', offset: 8 } }]);
  });

  it('sends a poison record to the dead-letter sink with its error and goes on with the partition', async () => {
    // Prepare
    const poison = new PoisonRecordError('record orders-0@41 is not JSON');
    const { seen, handler } = recordingHandler({ 'orders-0@41': poison });
    const deadLettered: [string, AppError][] = [];
    const deadLetter: DeadLetterSink = async (record, error) => void deadLettered.push([at(record), error]);

    // Act
    const response = await processKafkaBatch(records(), handler, { reportBatchItemFailures: true, deadLetter });

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLettered).toEqual([['orders-0@41', poison]]);
    expect(seen).toContain('orders-0@42');
  });

  it('never drops a poison record: without a dead-letter sink, or when the sink fails, the record fails', async () => {
    // Prepare
    const poison = new PoisonRecordError('breaks the schema');
    const { handler } = recordingHandler({ 'orders-3@7': poison });
    const brokenSink: DeadLetterSink = async () => {
      throw new BrokerUnavailableError('dead-letter topic unavailable');
    };

    // Act
    const withoutSink = await processKafkaBatch(records(), handler, { reportBatchItemFailures: true });
    const withBrokenSink = await processKafkaBatch(records(), handler, {
      reportBatchItemFailures: true,
      deadLetter: brokenSink,
    });

    // Assess
    const expected = [
      { itemIdentifier: { partition: 'orders-3', offset: 7 } },
      { itemIdentifier: { partition: 'orders-3', offset: 8 } },
    ];
    expect(withoutSink.batchItemFailures).toEqual(expected);
    expect(withBrokenSink.batchItemFailures).toEqual(expected);
  });

  it('throws BatchFailedError (retriable) when partial batch responses are off, after every partition ran', async () => {
    // Prepare
    const cause = new BrokerUnavailableError('broker down');
    const { seen, handler } = recordingHandler({ 'orders-3@7': cause });

    // Act
    const outcome = processKafkaBatch(records(), handler, { reportBatchItemFailures: false });

    // Assess
    await expect(outcome).rejects.toThrow(BatchFailedError);
    await expect(outcome).rejects.toMatchObject({
      retriable: true,
      cause,
      message: expect.stringMatching(/^2 record\(s\) failed \(orders-3@7, orders-3@8\)/),
    });
    expect(seen).toEqual(expect.arrayContaining(['orders-0@40', 'orders-0@41', 'orders-0@42']));
  });
});
