import type { InvocationOutcome } from './batch-response';
import type { LambdaKafkaRecord } from './event';
import { LIMITS, type EventSourceSettings } from './settings';

/**
 * How a failed batch is tried again, as a Lambda Kafka event source mapping does
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html): how many retries,
 * how long to wait before each, which records are too old to try, and when to split a batch in two.
 */
export interface RetryPolicy {
  /** retries after the first attempt before the records go to the on-failure destination (Infinity: no limit) */
  readonly maxRetries: number;
  /** the wait before retry number `retry` (1, 2, …): doubling from the initial back-off, capped */
  delayMs(retry: number): number;
  /** the records of `batch` older than maximumRecordAgeInSeconds at `now`, and the rest */
  byAge(batch: LambdaKafkaRecord[], now: number): { expired: LambdaKafkaRecord[]; fresh: LambdaKafkaRecord[] };
  /** after a function error with bisectBatchOnFunctionError: the two halves to try one after the other */
  bisect(
    batch: LambdaKafkaRecord[],
    outcome: InvocationOutcome,
  ): [LambdaKafkaRecord[], LambdaKafkaRecord[]] | undefined;
}

export function retryPolicy(settings: EventSourceSettings, backoff: { initialMs: number; maxMs: number }): RetryPolicy {
  // -1 means "until the record expires"; with an on-failure destination AWS stops after 10 retries
  const maxRetries =
    settings.maximumRetryAttempts >= 0
      ? settings.maximumRetryAttempts
      : settings.onFailureDestination
        ? LIMITS.retriesWithDestination
        : Infinity;
  return {
    maxRetries,
    delayMs: (retry) => Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(Math.max(retry - 1, 0), 20)),
    byAge(batch, now) {
      if (settings.maximumRecordAgeSeconds < 0) return { expired: [], fresh: batch };
      const oldest = now - settings.maximumRecordAgeSeconds * 1000;
      return { expired: batch.filter((r) => r.timestamp < oldest), fresh: batch.filter((r) => r.timestamp >= oldest) };
    },
    bisect(batch, outcome) {
      if (!settings.bisectBatchOnFunctionError || batch.length < 2 || outcome.kind !== 'error') return undefined;
      const half = Math.ceil(batch.length / 2);
      return [batch.slice(0, half), batch.slice(half)];
    },
  };
}
