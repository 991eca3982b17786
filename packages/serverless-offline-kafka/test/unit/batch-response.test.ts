import { describeOutcome, readBatchItemFailures } from '../../src/batch-response';
import { record } from './samples';

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

describe('describeOutcome', () => {
  it('words an outcome as the invocation line shows it', () => {
    expect(describeOutcome({ kind: 'ok' })).toBe('ok');
    expect(describeOutcome({ kind: 'partial', fromOffset: 43 })).toBe('partial failure, again from offset 43');
    expect(describeOutcome({ kind: 'error', message: 'boom', timeout: false })).toBe('error: boom');
  });
});
