import { UnknownItemIdentifierError } from './errors';
import type { LambdaKafkaRecord } from './event';

/** What one invocation of a batch came to. */
export type InvocationOutcome =
  | { kind: 'ok' }
  /** everything before `fromOffset` succeeded; the partition is delivered again from there */
  | { kind: 'partial'; fromOffset: number }
  | { kind: 'error'; message: string; timeout: boolean };

/**
 * Reads a handler's partial batch response (kafka-retry-configurations.html): null, {} or an empty
 * list = all succeeded; otherwise the lowest failed offset, from which the partition is delivered
 * again. An identifier that names no record of the batch fails the whole batch, as on AWS.
 */
export function readBatchItemFailures(result: unknown, batch: LambdaKafkaRecord[]): InvocationOutcome {
  if (result === null || typeof result !== 'object') return { kind: 'ok' };
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined || (Array.isArray(failures) && failures.length === 0)) {
    return { kind: 'ok' };
  }
  if (!Array.isArray(failures)) {
    return { kind: 'error', message: 'batchItemFailures is not a list: the whole batch failed', timeout: false };
  }
  let lowest = Infinity;
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: { partition?: unknown; offset?: unknown } } | null)?.itemIdentifier;
    const offset = Number(id?.offset);
    const found = batch.some((r) => `${r.topic}-${r.partition}` === id?.partition && r.offset === offset);
    if (!found) return { kind: 'error', message: new UnknownItemIdentifierError(id).message, timeout: false };
    lowest = Math.min(lowest, offset);
  }
  return { kind: 'partial', fromOffset: lowest };
}

/** The outcome in the words of the invocation line (`ok`, `partial failure, …`, `error: …`). */
export function describeOutcome(outcome: InvocationOutcome): string {
  if (outcome.kind === 'ok') return 'ok';
  if (outcome.kind === 'partial') return `partial failure, again from offset ${outcome.fromOffset}`;
  return `error: ${outcome.message}`;
}
