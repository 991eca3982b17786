import { setTimeout as sleep } from 'node:timers/promises';
import { describeOutcome, readBatchItemFailures, type InvocationOutcome } from './batch-response';
import { buildEvent, type LambdaKafkaRecord } from './event';
import { FAILURE_CONDITIONS, type FailureDestination, type FailureReason } from './failure-destination';
import { isLambdaTimeout } from './serverless-offline';
import type { RetryPolicy } from './retry-policy';
import type { EventSourceSettings } from './settings';

/** One invocation, as the event source reports it (one line each). */
export interface InvocationReport {
  functionKey: string;
  partitionKey: string;
  firstOffset: number;
  lastOffset: number;
  records: number;
  attempt: number;
  durationMs: number;
  outcome: string;
}

export interface BatchDeliveryDeps {
  settings: EventSourceSettings;
  partitionKey: string;
  invoke(event: unknown): Promise<unknown>;
  onInvocation(report: InvocationReport): void;
  policy: RetryPolicy;
  destination: FailureDestination;
}

/** Where a batch is delivered: the partition worker's state while it lasts. */
export interface DeliveryScope {
  /** the partition was not reassigned since the batch was taken: its outcome may still be committed */
  assigned(): boolean;
  /** assigned, and the worker is not stopping: worth another attempt */
  wanted(): boolean;
  /** aborted on a rebalance or a stop: ends a back-off wait */
  signal: AbortSignal;
  /** everything before `nextOffset` is done */
  commit(nextOffset: number): void;
}

/**
 * Sees one batch through: invokes the function, and on failure tries again as the retry policy says
 * (back-off, record age, bisecting, partial batch responses) until it succeeds or its records went to
 * the on-failure destination.
 */
export class BatchDelivery {
  readonly #deps: BatchDeliveryDeps;

  constructor(deps: BatchDeliveryDeps) {
    this.#deps = deps;
  }

  /** true once the batch is done (processed or handed over); false when interrupted (it is not committed). */
  async run(records: LambdaKafkaRecord[], scope: DeliveryScope, retriesBefore = 0): Promise<boolean> {
    const { policy } = this.#deps;
    let batch = records;
    let retries = retriesBefore;
    let lastError: string | undefined;
    while (scope.wanted()) {
      const { expired, fresh } = policy.byAge(batch, Date.now());
      if (expired.length > 0) {
        const reason = {
          condition: FAILURE_CONDITIONS.recordAgeExceeded,
          invokeCount: retries,
          functionError: lastError,
        };
        if (!(await this.handOver(expired, reason, scope))) return false;
        batch = fresh;
        if (batch.length === 0) return true;
      }
      const outcome = await this.#invokeOnce(batch, retries + 1);
      // the invocation in flight when the worker stops still counts; one from before a rebalance does not
      if (!scope.assigned()) return false;
      if (outcome.kind === 'ok') return true;
      if (outcome.kind === 'partial') {
        // everything before the lowest failed offset is done: commit it, deliver again from there
        if (outcome.fromOffset > batch[0]!.offset) scope.commit(outcome.fromOffset);
        batch = batch.filter((r) => r.offset >= outcome.fromOffset);
        lastError = `partial batch failure from offset ${outcome.fromOffset}`;
      } else {
        lastError = outcome.message;
      }
      retries += 1;
      if (retries > policy.maxRetries) {
        const reason = {
          condition: FAILURE_CONDITIONS.retriesExhausted,
          invokeCount: retries,
          functionError: lastError,
        };
        return this.handOver(batch, reason, scope);
      }
      const halves = policy.bisect(batch, outcome);
      if (halves) {
        if (!(await this.run(halves[0], scope, retries))) return false;
        return this.run(halves[1], scope, retries);
      }
      try {
        await sleep(policy.delayMs(retries), undefined, { signal: scope.signal });
      } catch {
        return false;
      }
    }
    return false;
  }

  /** The records to the on-failure destination, for as long as the scope wants them delivered. */
  handOver(records: LambdaKafkaRecord[], reason: FailureReason, scope: DeliveryScope): Promise<boolean> {
    return this.#deps.destination.handOver(records, reason, scope.signal, scope.wanted);
  }

  async #invokeOnce(batch: LambdaKafkaRecord[], attempt: number): Promise<InvocationOutcome> {
    const { settings } = this.#deps;
    const event = buildEvent(settings, batch);
    const started = performance.now();
    let outcome: InvocationOutcome;
    try {
      const result = await this.#deps.invoke(event);
      outcome = settings.reportBatchItemFailures ? readBatchItemFailures(result, batch) : { kind: 'ok' };
    } catch (error) {
      const timeout = isLambdaTimeout(error);
      outcome = { kind: 'error', message: timeout ? 'timeout' : String((error as Error)?.message ?? error), timeout };
    }
    this.#deps.onInvocation({
      functionKey: settings.functionKey,
      partitionKey: this.#deps.partitionKey,
      firstOffset: batch[0]!.offset,
      lastOffset: batch[batch.length - 1]!.offset,
      records: batch.length,
      attempt,
      durationMs: performance.now() - started,
      outcome: describeOutcome(outcome),
    });
    return outcome;
  }
}
