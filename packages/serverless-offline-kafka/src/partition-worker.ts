import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnknownItemIdentifierError } from './errors';
import { buildEvent, eventSize, recordSize, type LambdaKafkaRecord } from './event';
import { isLambdaTimeout } from './invoker';
import { kafkaDestinationTopic } from './mapping';
import { LIMITS, type EventSourceSettings } from './settings';

/** Why records went to the on-failure destination (AWS's `requestContext.condition`). */
export const FAILURE_CONDITIONS = {
  retriesExhausted: 'RetriesExhausted',
  recordAgeExceeded: 'RecordAgeExceeded',
  payloadTooLarge: 'MaximumPayloadSizeExceeded',
} as const;
export type FailureCondition = (typeof FAILURE_CONDITIONS)[keyof typeof FAILURE_CONDITIONS];

/** One record AWS-style failure metadata is written for (kafka-on-failure-destination.html). */
export interface FailureRecord {
  key: string | undefined;
  /** JSON of the failure record */
  value: string;
  record: LambdaKafkaRecord;
}

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

export interface PartitionWorkerDeps {
  settings: EventSourceSettings;
  region: string;
  invoke(event: unknown): Promise<unknown>;
  /** commit `nextOffset` for this partition, unless the partition was reassigned since `epoch` */
  commit(nextOffset: number, epoch: number): Promise<void>;
  /** write failure records to the destination topic; resolves once the broker acknowledged */
  sendFailures(topic: string, failures: FailureRecord[]): Promise<void>;
  filter(base64Value: string): boolean;
  backoff: { initialMs: number; maxMs: number };
  onInvocation(report: InvocationReport): void;
  log(level: 'notice' | 'warning' | 'error', message: string): void;
  /** the buffer fell below the low-water mark: fetching may resume */
  onBufferLow(): void;
  maxPayloadBytes?: number;
}

type Outcome =
  { kind: 'ok' } | { kind: 'partial'; fromOffset: number } | { kind: 'error'; message: string; timeout: boolean };

/**
 * Buffered records above which fetching pauses for the partition. Deep enough that a resumed
 * partition's next fetch (up to maxWaitTimeInMs later) arrives before the buffer runs dry.
 */
export function highWaterMark(batchSize: number): { records: number; bytes: number } {
  return { records: Math.max(4 * batchSize, 5000), bytes: 32 * 1024 * 1024 };
}

/**
 * Reads a handler's partial batch response (kafka-retry-configurations.html): null, {} or an empty
 * list = all succeeded; otherwise the lowest failed offset, from which the partition is delivered
 * again. An identifier that names no record of the batch fails the whole batch, as on AWS.
 */
export function readBatchItemFailures(result: unknown, batch: LambdaKafkaRecord[]): Outcome {
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

/**
 * Delivers the records of ONE partition to the function: batches them (batchSize, batching window,
 * 6 MB), filters them, invokes one batch at a time in offset order, retries on failure as configured,
 * and commits only what was processed (or handed to the on-failure destination).
 */
export class PartitionWorker {
  readonly #deps: PartitionWorkerDeps;
  readonly #partitionKey: string;
  #buffer: Array<{ record: LambdaKafkaRecord; size: number; arrived: number }> = [];
  #bufferBytes = 0;
  #epoch = 0;
  #abort = new AbortController();
  #stopped = false;
  #wake: (() => void) | undefined;
  #pendingCommit: { offset: number; epoch: number } | undefined;
  #committing: Promise<void> | undefined;
  readonly done: Promise<void>;

  constructor(
    deps: PartitionWorkerDeps,
    readonly partition: number,
  ) {
    this.#deps = deps;
    this.#partitionKey = `${deps.settings.topic}-${partition}`;
    this.done = this.#loop().then(() => this.#committing);
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** true when fetching should pause for this partition */
  get full(): boolean {
    const high = highWaterMark(this.#deps.settings.batchSize);
    return this.#buffer.length >= high.records || this.#bufferBytes >= high.bytes;
  }

  push(records: LambdaKafkaRecord[]): void {
    const now = Date.now();
    for (const record of records) {
      const size = recordSize(record);
      this.#buffer.push({ record, size, arrived: now });
      this.#bufferBytes += size;
    }
    this.#notify();
  }

  /**
   * The group was rebalanced: kafkajs fetches again from the committed offsets, so buffered records
   * are dropped and retries of the batch in flight stop (it is not committed; it comes again).
   */
  reset(): void {
    this.#epoch += 1;
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#abort.abort();
    this.#abort = new AbortController();
    this.#notify();
  }

  /**
   * Stop after the invocation in flight (which is committed if it succeeds); a batch waiting to be
   * retried is left uncommitted and comes again on the next start.
   */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#abort.abort();
    this.#notify();
    return this.done;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #waitForNews(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(resolve, timeoutMs);
      this.#wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
    });
  }

  async #loop(): Promise<void> {
    const { settings } = this.#deps;
    const maxBytes = this.#deps.maxPayloadBytes ?? LIMITS.maxPayloadBytes;
    while (!this.#stopped) {
      if (this.#buffer.length === 0) {
        await this.#waitForNews();
        continue;
      }
      // the batching window runs from the arrival of the oldest waiting record
      const waited = Date.now() - this.#buffer[0]!.arrived;
      if (
        waited < settings.batchingWindowMs &&
        this.#buffer.length < settings.batchSize &&
        this.#bufferBytes < maxBytes
      ) {
        await this.#waitForNews(settings.batchingWindowMs - waited);
        continue;
      }
      try {
        await this.#deliverNext(maxBytes);
      } catch (error) {
        // a bug here must not stop the partition silently: say so, wait, and start again from the commits
        this.#deps.log('error', `${this.#partitionKey}: ${String((error as Error).stack ?? error)}`);
        this.reset();
        await sleep(this.#deps.backoff.initialMs);
      }
    }
  }

  /**
   * Commit `offset` (everything before it is done) without holding up the next batch: a commit
   * shares the broker connection with the fetches and would add a round trip per invocation.
   * Commits of the partition stay in order; one waiting behind another is replaced by the newer one.
   */
  #commit(offset: number, epoch: number): void {
    this.#pendingCommit = { offset, epoch };
    this.#committing ??= (async () => {
      while (this.#pendingCommit) {
        const next = this.#pendingCommit;
        this.#pendingCommit = undefined;
        await this.#deps.commit(next.offset, next.epoch);
      }
      this.#committing = undefined;
    })();
  }

  /** Take the next batch from the buffer and see it through. */
  async #deliverNext(maxBytes: number): Promise<void> {
    const { settings } = this.#deps;
    const epoch = this.#epoch;
    const envelope = eventSize(buildEvent(settings, [])) + 64;
    const batch: LambdaKafkaRecord[] = [];
    let size = envelope;
    let scanned = 0;
    let oversized: LambdaKafkaRecord | undefined;
    for (const entry of this.#buffer) {
      if (batch.length >= settings.batchSize) break;
      // filtered-out records do not count toward the batch; they are committed with it
      if (!this.#deps.filter(entry.record.value)) {
        scanned += 1;
        continue;
      }
      if (size + entry.size > maxBytes) {
        if (batch.length === 0) {
          oversized = entry.record;
          scanned += 1;
        }
        break;
      }
      batch.push(entry.record);
      size += entry.size;
      scanned += 1;
    }
    const taken = this.#buffer.splice(0, scanned);
    this.#bufferBytes -= taken.reduce((n, e) => n + e.size, 0);
    if (!this.full && this.#buffer.length < highWaterMark(settings.batchSize).records / 2) this.#deps.onBufferLow();
    const lastOffset = taken[taken.length - 1]!.record.offset;

    let finished = true;
    if (oversized) {
      finished = await this.#sendToDestination([oversized], FAILURE_CONDITIONS.payloadTooLarge, 0, epoch, undefined);
    } else if (batch.length > 0) {
      finished = await this.#runWithRetries(batch, 0, epoch);
    }
    if (finished && epoch === this.#epoch) this.#commit(lastOffset + 1, epoch);
  }

  /** Invoke until the batch succeeds, or its records went to the destination; false when interrupted. */
  async #runWithRetries(records: LambdaKafkaRecord[], retriesBefore: number, epoch: number): Promise<boolean> {
    const { settings } = this.#deps;
    const destination = settings.onFailureDestination;
    const maxRetries =
      settings.maximumRetryAttempts >= 0
        ? settings.maximumRetryAttempts
        : destination
          ? LIMITS.retriesWithDestination
          : Infinity;
    let batch = records;
    let retries = retriesBefore;
    let lastError = '';
    while (epoch === this.#epoch && !this.#stopped) {
      if (settings.maximumRecordAgeSeconds >= 0) {
        const oldest = Date.now() - settings.maximumRecordAgeSeconds * 1000;
        const expired = batch.filter((r) => r.timestamp < oldest);
        if (expired.length > 0) {
          const sent = await this.#sendToDestination(
            expired,
            FAILURE_CONDITIONS.recordAgeExceeded,
            retries,
            epoch,
            lastError,
          );
          if (!sent) return false;
          batch = batch.filter((r) => r.timestamp >= oldest);
          if (batch.length === 0) return true;
        }
      }
      const outcome = await this.#invokeOnce(batch, retries + 1);
      if (epoch !== this.#epoch) return false;
      if (outcome.kind === 'ok') return true;
      if (outcome.kind === 'partial') {
        // everything before the lowest failed offset is done: commit it, deliver again from there
        if (outcome.fromOffset > batch[0]!.offset) this.#commit(outcome.fromOffset, epoch);
        batch = batch.filter((r) => r.offset >= outcome.fromOffset);
        lastError = `partial batch failure from offset ${outcome.fromOffset}`;
      } else {
        lastError = outcome.message;
      }
      retries += 1;
      if (retries > maxRetries) {
        return this.#sendToDestination(batch, FAILURE_CONDITIONS.retriesExhausted, retries, epoch, lastError);
      }
      if (settings.bisectBatchOnFunctionError && batch.length > 1 && outcome.kind === 'error') {
        const half = Math.ceil(batch.length / 2);
        if (!(await this.#runWithRetries(batch.slice(0, half), retries, epoch))) return false;
        return this.#runWithRetries(batch.slice(half), retries, epoch);
      }
      const delay = Math.min(this.#deps.backoff.maxMs, this.#deps.backoff.initialMs * 2 ** Math.min(retries - 1, 20));
      try {
        await sleep(delay, undefined, { signal: this.#abort.signal });
      } catch {
        return false;
      }
    }
    return false;
  }

  async #invokeOnce(batch: LambdaKafkaRecord[], attempt: number): Promise<Outcome> {
    const { settings } = this.#deps;
    const event = buildEvent(settings, batch);
    const started = performance.now();
    let outcome: Outcome;
    try {
      const result = await this.#deps.invoke(event);
      outcome = settings.reportBatchItemFailures ? readBatchItemFailures(result, batch) : { kind: 'ok' };
    } catch (error) {
      const timeout = isLambdaTimeout(error);
      outcome = { kind: 'error', message: timeout ? 'timeout' : String((error as Error)?.message ?? error), timeout };
    }
    this.#deps.onInvocation({
      functionKey: settings.functionKey,
      partitionKey: this.#partitionKey,
      firstOffset: batch[0]!.offset,
      lastOffset: batch[batch.length - 1]!.offset,
      records: batch.length,
      attempt,
      durationMs: performance.now() - started,
      outcome:
        outcome.kind === 'ok'
          ? 'ok'
          : outcome.kind === 'partial'
            ? `partial failure, again from offset ${outcome.fromOffset}`
            : `error: ${outcome.message}`,
    });
    return outcome;
  }

  /**
   * Hand records over to the on-failure destination, one failure record each, keyed like the original.
   * Without a Kafka destination they are dropped as on AWS, but each is logged in full first.
   * Retries the write until the broker acknowledges it: nothing is committed before that.
   */
  async #sendToDestination(
    records: LambdaKafkaRecord[],
    condition: FailureCondition,
    invokeCount: number,
    epoch: number,
    functionError: string | undefined,
  ): Promise<boolean> {
    const { settings } = this.#deps;
    const failures = records.map((record) =>
      toFailureRecord(settings, this.#deps.region, record, records.length, condition, invokeCount, functionError),
    );
    const topic = kafkaDestinationTopic(settings.onFailureDestination);
    if (!topic) {
      const where = settings.onFailureDestination
        ? `the destination ${settings.onFailureDestination} cannot be reached offline (only kafka://topic can)`
        : 'no onFailureDestination is configured';
      for (const f of failures) {
        this.#deps.log('error', `${this.#partitionKey}: record dropped (${condition}); ${where}: ${f.value}`);
      }
      return true;
    }
    let wait = this.#deps.backoff.initialMs;
    while (epoch === this.#epoch && !this.#stopped) {
      try {
        await this.#deps.sendFailures(topic, failures);
        this.#deps.log(
          'warning',
          `${this.#partitionKey}: ${records.length} record(s) from offset ${records[0]!.offset} sent to kafka://${topic} (${condition})`,
        );
        return true;
      } catch (error) {
        this.#deps.log('error', `could not write to kafka://${topic}: ${(error as Error).message}; retrying`);
        try {
          await sleep(wait, undefined, { signal: this.#abort.signal });
        } catch {
          return false;
        }
        wait = Math.min(wait * 2, this.#deps.backoff.maxMs);
      }
    }
    return false;
  }
}

/**
 * AWS's failure record for one record, as sent to a Kafka on-failure destination
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html).
 */
export function toFailureRecord(
  settings: EventSourceSettings,
  region: string,
  record: LambdaKafkaRecord,
  batchSize: number,
  condition: FailureCondition,
  invokeCount: number,
  functionError: string | undefined,
): FailureRecord {
  const payload = buildEvent(settings, [record]);
  const body = {
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:${region}:000000000000:function:${settings.functionName}:$LATEST`,
      condition,
      approximateInvokeCount: invokeCount,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      ...(functionError ? { functionError: 'Unhandled' } : {}),
    },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KafkaBatchInfo: {
      batchSize,
      ...(settings.eventSourceArn ? { eventSourceArn: settings.eventSourceArn } : {}),
      bootstrapServers: settings.bootstrapServers,
      payloadSize: eventSize(payload),
      recordInfo: { offset: String(record.offset), timestamp: new Date(record.timestamp).toISOString() },
    },
    payload,
  };
  return { key: record.key, value: JSON.stringify(body), record };
}
