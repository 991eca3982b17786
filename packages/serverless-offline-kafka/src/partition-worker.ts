import { setTimeout as sleep } from 'node:timers/promises';
import { BatchDelivery, type DeliveryScope, type InvocationReport } from './batch-delivery';
import { buildEvent, eventSize, recordSize, type LambdaKafkaRecord } from './event';
import { FAILURE_CONDITIONS, FailureDestination, type FailureRecord } from './failure-destination';
import { retryPolicy } from './retry-policy';
import { SchemaRegistryUnavailableError, type PreparedRecord } from './schema-registry';
import { LIMITS, type EventSourceSettings } from './settings';

export interface PartitionWorkerDeps {
  settings: EventSourceSettings;
  region: string;
  invoke(event: unknown): Promise<unknown>;
  /** commit `nextOffset` for this partition, unless the partition was reassigned since `epoch` */
  commit(nextOffset: number, epoch: number): Promise<void>;
  /** write failure records to the destination topic; resolves once the broker acknowledged */
  sendFailures(topic: string, failures: FailureRecord[]): Promise<void>;
  filter(base64Value: string): boolean;
  /** with a schema registry: each record deserialized (or its failure) before it is filtered and batched */
  prepare?(record: LambdaKafkaRecord): Promise<PreparedRecord>;
  backoff: { initialMs: number; maxMs: number };
  onInvocation(report: InvocationReport): void;
  log(level: 'notice' | 'warning' | 'error', message: string): void;
  /** the buffer fell below the low-water mark: fetching may resume */
  onBufferLow(): void;
  maxPayloadBytes?: number;
}

/**
 * Buffered records above which fetching pauses for the partition. Deep enough that a resumed
 * partition's next fetch (up to maxWaitTimeInMs later) arrives before the buffer runs dry.
 */
export function highWaterMark(batchSize: number): { records: number; bytes: number } {
  return { records: Math.max(4 * batchSize, 5000), bytes: 32 * 1024 * 1024 };
}

/**
 * Delivers the records of ONE partition to the function: batches them (batchSize, batching window,
 * 6 MB), filters them, invokes one batch at a time in offset order, retries on failure as configured,
 * and commits only what was processed (or handed to the on-failure destination).
 */
export class PartitionWorker {
  readonly #deps: PartitionWorkerDeps;
  readonly #partitionKey: string;
  readonly #delivery: BatchDelivery;
  #buffer: Array<{ record: LambdaKafkaRecord; size: number; arrived: number; prepared?: PreparedRecord }> = [];
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
    this.#delivery = new BatchDelivery({
      ...deps,
      partitionKey: this.#partitionKey,
      policy: retryPolicy(deps.settings, deps.backoff),
      destination: new FailureDestination(deps, this.#partitionKey),
    });
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
    let registryWaitMs = this.#deps.backoff.initialMs;
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
        registryWaitMs = this.#deps.backoff.initialMs;
      } catch (error) {
        if (error instanceof SchemaRegistryUnavailableError) {
          // told once by the registry; the records stay buffered, nothing is committed
          await sleep(registryWaitMs, undefined, { signal: this.#abort.signal }).catch(() => undefined);
          registryWaitMs = Math.min(registryWaitMs * 2, this.#deps.backoff.maxMs);
          continue;
        }
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
    let failed: Extract<PreparedRecord, { failure: unknown }> | undefined;
    for (const entry of this.#buffer) {
      if (batch.length >= settings.batchSize) break;
      const prepared = await this.#prepare(entry, epoch);
      if (!prepared) return; // the partition was reassigned meanwhile
      if ('failure' in prepared) {
        // a record the registry cannot serve goes to the destination in its turn, after the batch before it
        if (batch.length === 0) {
          failed = prepared;
          scanned += 1;
        }
        break;
      }
      // filtered-out records do not count toward the batch; they are committed with it
      if (!this.#deps.filter(prepared.filterValue ?? prepared.record.value)) {
        scanned += 1;
        continue;
      }
      const recordBytes = prepared.record === entry.record ? entry.size : recordSize(prepared.record);
      if (size + recordBytes > maxBytes) {
        if (batch.length === 0) {
          oversized = prepared.record;
          scanned += 1;
        }
        break;
      }
      batch.push(prepared.record);
      size += recordBytes;
      scanned += 1;
    }
    const taken = this.#buffer.splice(0, scanned);
    this.#bufferBytes -= taken.reduce((n, e) => n + e.size, 0);
    if (!this.full && this.#buffer.length < highWaterMark(settings.batchSize).records / 2) this.#deps.onBufferLow();
    const lastOffset = taken[taken.length - 1]!.record.offset;

    const scope = this.#scope(epoch);
    let finished = true;
    if (failed) {
      const reason = { condition: failed.failure.condition, invokeCount: 0, detail: failed.failure.message };
      finished = await this.#delivery.handOver([failed.record], reason, scope);
    } else if (oversized) {
      const reason = { condition: FAILURE_CONDITIONS.payloadTooLarge, invokeCount: 0 };
      finished = await this.#delivery.handOver([oversized], reason, scope);
    } else if (batch.length > 0) {
      finished = await this.#delivery.run(batch, scope);
    }
    if (finished && scope.assigned()) this.#commit(lastOffset + 1, epoch);
  }

  /** The record as the function gets it (deserialized with the schema registry, if any), worked out once. */
  async #prepare(
    entry: { record: LambdaKafkaRecord; prepared?: PreparedRecord },
    epoch: number,
  ): Promise<PreparedRecord | undefined> {
    if (!this.#deps.prepare) return { record: entry.record };
    const prepared = entry.prepared ?? (await this.#deps.prepare(entry.record));
    if (epoch !== this.#epoch) return undefined;
    entry.prepared = prepared;
    return prepared;
  }

  /** A batch taken at `epoch` is delivered while the partition stays assigned (and the worker running). */
  #scope(epoch: number): DeliveryScope {
    const assigned = () => epoch === this.#epoch;
    return {
      assigned,
      wanted: () => assigned() && !this.#stopped,
      signal: this.#abort.signal,
      commit: (nextOffset) => this.#commit(nextOffset, epoch),
    };
  }
}
