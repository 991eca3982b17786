import { retryPolicy } from '../../src/retry-policy';
import { mskSettings, record } from './samples';

const backoff = { initialMs: 100, maxMs: 1000 };

describe('retryPolicy', () => {
  it('retries without limit by default, 10 times with an on-failure destination, and as configured otherwise', () => {
    expect(retryPolicy(mskSettings(), backoff).maxRetries).toBe(Infinity);
    expect(retryPolicy(mskSettings({ onFailureDestination: 'kafka://dlq' }), backoff).maxRetries).toBe(10);
    expect(retryPolicy(mskSettings({ maximumRetryAttempts: 0 }), backoff).maxRetries).toBe(0);
    expect(
      retryPolicy(mskSettings({ maximumRetryAttempts: 3, onFailureDestination: 'kafka://dlq' }), backoff).maxRetries,
    ).toBe(3);
  });

  it('waits twice as long before each retry, up to the cap', () => {
    const policy = retryPolicy(mskSettings(), backoff);
    expect([1, 2, 3, 4, 5, 100].map((retry) => policy.delayMs(retry))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('splits off the records older than maximumRecordAgeInSeconds, and none without it', () => {
    const now = record.timestamp + 90_000;
    const old = record;
    const young = { ...record, offset: 43, timestamp: record.timestamp + 50_000 };
    expect(retryPolicy(mskSettings({ maximumRecordAgeInSeconds: 60 }), backoff).byAge([old, young], now)).toEqual({
      expired: [old],
      fresh: [young],
    });
    expect(retryPolicy(mskSettings(), backoff).byAge([old, young], now)).toEqual({ expired: [], fresh: [old, young] });
  });

  it('bisects a batch of two or more after a function error, only with bisectBatchOnFunctionError', () => {
    const batch = [42, 43, 44].map((offset) => ({ ...record, offset }));
    const error = { kind: 'error', message: 'boom', timeout: false } as const;
    const bisecting = retryPolicy(mskSettings({ bisectBatchOnFunctionError: true }), backoff);
    expect(bisecting.bisect(batch, error)?.map((half) => half.map((r) => r.offset))).toEqual([[42, 43], [44]]);
    expect(bisecting.bisect(batch.slice(0, 1), error)).toBeUndefined();
    expect(bisecting.bisect(batch, { kind: 'partial', fromOffset: 43 })).toBeUndefined();
    expect(retryPolicy(mskSettings(), backoff).bisect(batch, error)).toBeUndefined();
  });
});
