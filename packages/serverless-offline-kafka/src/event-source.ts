import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, KafkaConfig, KafkaMessage } from 'kafkajs';
// importing kafkajs-resilience also stops each consumer's connections from spinning a 1 ms timer in
// serverless offline's main thread
import { reportKafkaFailure, type OutageSink } from 'kafkajs-resilience';
import type { InvocationReport } from './batch-delivery';
import { authProblem, describeClusterAuth } from './cluster-auth';
import type { LogLevel } from './consumer-log';
import { EventSourceClient } from './event-source-client';
import { toLambdaRecord } from './event';
import { createRecordFilter } from './filter';
import { SchemaRegistry } from './schema-registry';
import { PartitionWorker } from './partition-worker';
import type { EventSourceSettings, PluginOptions } from './settings';
import { missingSecretReader, type SecretReader } from './secrets';
import { prepareGroup } from './starting-position';

export interface EventSourceDeps {
  settings: EventSourceSettings;
  options: PluginOptions;
  region: string;
  clientId: string;
  invoke(functionKey: string, event: unknown): Promise<unknown>;
  log(level: LogLevel, message: string): void;
  /** the process's one account of broker outages: a consumer's connection trouble is told there, once */
  outage?: OutageSink;
  onInvocation(report: InvocationReport): void;
  /** the consumer joined its group and holds these partitions */
  onAssigned(partitions: number[]): void;
  /** reads the secrets the event's authentication names (./secrets) */
  readSecret?: SecretReader;
  /** the kafkajs client (tests give a fake) */
  createKafka?: (config: KafkaConfig) => Kafka;
}

/**
 * One `msk` / `kafka` event of one function: a kafkajs consumer in the event's group, feeding one
 * PartitionWorker per assigned partition.
 *
 * kafkajs fetches from a broker only after every batch of the previous fetch was handled, so a slow
 * partition inside `eachBatch` would hold all the others. Here `eachBatch` only hands records to the
 * partition's worker and returns; the workers invoke in parallel, and a partition whose worker falls
 * behind is paused. Auto-commit is off: a worker commits after its invocation succeeded.
 */
export class EventSource {
  readonly #deps: EventSourceDeps;
  readonly #client: EventSourceClient;
  readonly #workers = new Map<number, PartitionWorker>();
  readonly #paused = new Set<number>();
  readonly #filter: (value: string) => boolean;
  readonly #registry: SchemaRegistry | undefined;
  #consumer: Consumer | undefined;
  /** the last authentication problem told, so a failing retry loop says it once */
  #authProblemTold: string | undefined;
  #logAppendTime = false;
  #stopping = false;
  /** the consumer joined its group once: from then on a coordinator error is news, not start-up */
  #joined = false;

  constructor(deps: EventSourceDeps) {
    this.#deps = deps;
    const { settings } = deps;
    this.#filter = createRecordFilter({ patterns: settings.filterPatterns });
    this.#registry =
      settings.schemaRegistry &&
      new SchemaRegistry({
        settings: settings.schemaRegistry,
        readSecret: deps.readSecret ?? missingSecretReader,
        log: (level, message) => deps.log(level, `${this.#name}: ${message}`),
      });
    this.#client = new EventSourceClient({
      ...deps,
      logContext: {
        name: this.#name,
        stopping: () => this.#stopping,
        joined: () => this.#joined,
        log: deps.log,
      },
    });
  }

  get #name(): string {
    return `${this.#deps.settings.functionKey} <- ${this.#deps.settings.topic}`;
  }

  /** Start consuming in the background; an unreachable broker is retried with backoff, forever. */
  start(): void {
    void this.#runUntilStopped();
  }

  async #runUntilStopped(): Promise<void> {
    let wait = this.#deps.options.retryBackoff.initialMs;
    while (!this.#stopping) {
      try {
        await this.#connectAndRun();
        return;
      } catch (error) {
        await this.#disconnectConsumer();
        if (this.#stopping) return;
        this.#tellFailedAttempt(error, wait);
        await sleep(wait);
        wait = Math.min(wait * 2, this.#deps.options.retryBackoff.maxMs);
      }
    }
  }

  /** Say why an attempt to consume failed: once per authentication problem, through the outage tracker
   * for an unreachable broker, else one line per attempt. */
  #tellFailedAttempt(error: unknown, wait: number): void {
    const { topic, brokers, auth } = this.#deps.settings;
    const problem = authProblem(error, auth);
    if (problem) {
      // who the consumer is, not the broker being away: one line until it changes or is fixed
      if (problem === this.#authProblemTold) return;
      this.#authProblemTold = problem;
      this.#deps.log(
        'error',
        `${this.#name}: cannot authenticate to Kafka at ${brokers.join(',')} over ${describeClusterAuth(auth)}: ` +
          `${problem}. Nothing is consumed or committed; retrying quietly (HTTP functions keep serving).`,
      );
      return;
    }
    if (reportKafkaFailure(this.#deps.outage, this.#name, error, brokers.join(','))) return;
    // kafkajs words a missing topic as "This server does not host this topic-partition"
    const missingTopic = (error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION';
    const reason = missingTopic
      ? `the topic ${topic} does not exist (this plugin never creates topics: create it first)`
      : (error as Error).message;
    this.#deps.log(
      'error',
      `${this.#name}: cannot consume from Kafka at ${brokers.join(',')}: ${reason}. ` +
        `Retrying in ${Math.round(wait / 1000)} s (HTTP functions keep serving).`,
    );
  }

  async #connectAndRun(): Promise<void> {
    const { settings, options } = this.#deps;
    await this.#client.authenticate();
    const admin = this.#client.kafka.admin({ retry: { retries: 2 } });
    await admin.connect();
    try {
      this.#logAppendTime = (await prepareGroup(admin, settings)).logAppendTime;
    } finally {
      await admin.disconnect();
    }
    const consumer = this.#client.kafka.consumer({
      groupId: settings.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(options.sessionTimeoutMs / 3)),
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 10_000),
      // a fetch returns as soon as one record is there (minBytes 1), so this only bounds an idle
      // long-poll; kept short because kafkajs also sleeps this long when every partition is paused,
      // and a resumed partition waits for the next fetch
      maxWaitTimeInMs: 100,
      minBytes: 1,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 300, retries: 5, maxRetryTime: 5000 },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#joined = true;
      if (this.#authProblemTold) {
        this.#authProblemTold = undefined;
        this.#deps.log('notice', `${this.#name}: authenticated over ${describeClusterAuth(settings.auth)}, consuming`);
      }
      this.#deps.outage?.success(this.#name);
      // kafkajs fetches again from the committed offsets after a join: start every partition afresh
      for (const worker of this.#workers.values()) worker.reset();
      this.#paused.clear();
      const assigned = payload.memberAssignment[settings.topic] ?? [];
      this.#deps.onAssigned([...assigned].sort((a, b) => a - b));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.#stopping) return;
      if (!reportKafkaFailure(this.#deps.outage, this.#name, payload.error, this.#deps.settings.brokers.join(',')))
        this.#deps.log(
          'error',
          `${this.#name}: consumer crashed (${payload.error.message})${payload.restart ? '; restarting' : ''}`,
        );
      if (!payload.restart) void this.#runUntilStopped();
    });
    await consumer.connect();
    // TRIM_HORIZON reads a new group from the start; LATEST and AT_TIMESTAMP were pinned above
    await consumer.subscribe({ topic: settings.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, isStale }) => {
        if (isStale() || this.#stopping) return;
        const worker = this.#worker(batch.partition);
        worker.push(batch.messages.map((m) => this.#toRecord(batch.topic, batch.partition, m)));
        if (worker.full && !this.#paused.has(batch.partition)) {
          this.#paused.add(batch.partition);
          consumer.pause([{ topic: settings.topic, partitions: [batch.partition] }]);
        }
      },
    });
  }

  #toRecord(topic: string, partition: number, m: KafkaMessage) {
    return toLambdaRecord({
      topic,
      partition,
      offset: m.offset,
      timestamp: m.timestamp,
      logAppendTime: this.#logAppendTime,
      key: m.key,
      value: m.value,
      headers: m.headers ?? {},
    });
  }

  #worker(partition: number): PartitionWorker {
    let worker = this.#workers.get(partition);
    if (worker) return worker;
    const { settings, options, region } = this.#deps;
    worker = new PartitionWorker(
      {
        settings,
        region,
        backoff: options.retryBackoff,
        filter: this.#filter,
        prepare: this.#registry && ((record) => this.#registry!.prepare(record)),
        invoke: (event) => this.#deps.invoke(settings.functionKey, event),
        commit: (nextOffset, epoch) => this.#commit(partition, nextOffset, epoch),
        sendFailures: (topic, failures) => this.#client.failureWriter.send(topic, failures),
        onInvocation: (report) => this.#deps.onInvocation(report),
        log: (level, message) => this.#deps.log(level, `${settings.functionKey}: ${message}`),
        onBufferLow: () => {
          if (this.#paused.delete(partition))
            this.#consumer?.resume([{ topic: settings.topic, partitions: [partition] }]);
        },
      },
      partition,
    );
    this.#workers.set(partition, worker);
    return worker;
  }

  async #commit(partition: number, nextOffset: number, epoch: number): Promise<void> {
    const worker = this.#workers.get(partition);
    if (!this.#consumer || worker?.epoch !== epoch) return;
    try {
      await this.#consumer.commitOffsets([{ topic: this.#deps.settings.topic, partition, offset: String(nextOffset) }]);
    } catch (error) {
      // the group is rebalancing: the records come again from the last commit (at-least-once)
      this.#deps.log('warning', `${this.#name}: commit of partition ${partition} failed: ${(error as Error).message}`);
    }
  }

  async #disconnectConsumer(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await consumer?.disconnect().catch(() => undefined);
  }

  /**
   * Leave the group cleanly: stop fetching, let invocations in flight finish (up to `graceMs`),
   * commit nothing that did not succeed, disconnect.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    const workers = Promise.all([...this.#workers.values()].map((w) => w.stop()));
    // the grace timer does not keep the process alive once everything else is done
    await Promise.race([workers, sleep(graceMs, undefined, { ref: false })]);
    await this.#disconnectConsumer();
    await this.#client.close();
  }
}
