import type { Kafka, KafkaConfig } from 'kafkajs';
import type { OutageSink } from 'kafkajs-resilience';
import { EventSource } from '../../src/event-source';
import type { LambdaKafkaEvent } from '../../src/event';
import { readPluginOptions } from '../../src/settings';
import { mskSettings } from './samples';

type Listener = (event: { payload: Record<string, unknown> }) => void;
type EachBatch = (args: {
  batch: { topic: string; partition: number; messages: unknown[] };
  isStale: () => boolean;
}) => Promise<void>;

/**
 * kafkajs faked as far as the event source uses it: each consumer it creates is recorded with what
 * was done to it (commits, pauses, resumes), and the test plays the broker: `join` assigns partitions,
 * `deliver` hands a fetched batch to eachBatch, `crash` emits CRASH. `failConnects` makes the next
 * connects throw `connectError`.
 */
function fakeKafka() {
  const consumers: FakeConsumer[] = [];
  const state = { failConnects: 0, connectError: new Error('unset') as unknown, topicMissing: false };
  class FakeConsumer {
    readonly events = { GROUP_JOIN: 'group_join', CRASH: 'crash' };
    readonly listeners = new Map<string, Listener>();
    readonly commits: string[] = [];
    readonly paused: number[] = [];
    readonly resumed: number[] = [];
    eachBatch: EachBatch | undefined;
    disconnected = false;
    constructor(readonly config: { groupId: string }) {}
    on(event: string, listener: Listener) {
      this.listeners.set(event, listener);
    }
    async connect() {
      if (state.failConnects > 0) {
        state.failConnects -= 1;
        throw state.connectError;
      }
    }
    async subscribe() {}
    async run(config: { eachBatch: EachBatch }) {
      this.eachBatch = config.eachBatch;
    }
    pause(topics: { partitions: number[] }[]) {
      this.paused.push(...topics.flatMap((t) => t.partitions));
    }
    resume(topics: { partitions: number[] }[]) {
      this.resumed.push(...topics.flatMap((t) => t.partitions));
    }
    async commitOffsets(offsets: { partition: number; offset: string }[]) {
      this.commits.push(...offsets.map((o) => `${o.partition}@${o.offset}`));
    }
    async disconnect() {
      this.disconnected = true;
    }
    join(partitions: number[]) {
      this.listeners.get('group_join')!({ payload: { memberAssignment: { 'order-events': partitions } } });
    }
    async deliver(partition: number, offsets: number[]) {
      const messages = offsets.map((offset) => ({
        offset: String(offset),
        timestamp: String(Date.now()),
        key: Buffer.from(`k${offset}`),
        value: Buffer.from(JSON.stringify({ n: offset })),
        headers: {},
      }));
      await this.eachBatch!({ batch: { topic: 'order-events', partition, messages }, isStale: () => false });
    }
    crash(error: Error, restart: boolean) {
      this.listeners.get('crash')!({ payload: { error, restart } });
    }
  }
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    describeConfigs: async () => {
      if (state.topicMissing)
        throw Object.assign(new Error('This server does not host this topic-partition'), {
          type: 'UNKNOWN_TOPIC_OR_PARTITION',
        });
      return { resources: [{ configEntries: [{ configName: 'message.timestamp.type', configValue: 'CreateTime' }] }] };
    },
  };
  const kafka = {
    consumer: (config: { groupId: string }) => {
      const consumer = new FakeConsumer(config);
      consumers.push(consumer);
      return consumer;
    },
    admin: () => admin,
    producer: () => ({
      connect: async () => undefined,
      send: async () => undefined,
      disconnect: async () => undefined,
    }),
  };
  return { kafka: kafka as unknown as Kafka, consumers, state, latest: () => consumers[consumers.length - 1]! };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function setup(
  invoke: (event: LambdaKafkaEvent) => Promise<unknown> = async () => undefined,
  raw: Record<string, unknown> = {},
) {
  const fake = fakeKafka();
  const logs: string[] = [];
  const assigned: number[][] = [];
  const invoked: number[][] = [];
  const told: string[] = [];
  const outage: OutageSink = {
    down: false,
    failure: (what, error) => told.push(`failure ${what}: ${(error as Error).message}`),
    success: (what) => told.push(`success ${what}`),
    refused: () => undefined,
  };
  let config: KafkaConfig | undefined;
  const source = new EventSource({
    settings: mskSettings({ maximumBatchingWindow: 0, ...raw }),
    options: readPluginOptions({ retryBackoff: { initialMs: 1, maxMs: 2 } }),
    region: 'eu-west-1',
    clientId: 'shop-offline-kafka',
    invoke: async (_functionKey, event) => {
      const e = event as LambdaKafkaEvent;
      invoked.push(
        Object.values(e.records)
          .flat()
          .map((r) => r.offset),
      );
      return invoke(e);
    },
    log: (level, message) => logs.push(`${level}: ${message}`),
    outage,
    onInvocation: () => undefined,
    onAssigned: (partitions) => assigned.push(partitions),
    createKafka: (c) => {
      config = c;
      return fake.kafka;
    },
  });
  return { fake, source, logs, assigned, invoked, told, config: () => config! };
}

describe('EventSource', () => {
  it("hands each partition's records to the function as AWS's event, and commits a batch once it succeeded", async () => {
    const t = setup();
    t.source.start();
    await until(() => t.fake.latest()?.eachBatch !== undefined, 'the consumer to run');
    const consumer = t.fake.latest();
    expect(consumer.config.groupId).toBe('shop-local-worker-order-events');
    expect(t.config()).toMatchObject({ clientId: 'shop-offline-kafka', brokers: ['127.0.0.1:9092'] });
    consumer.join([1, 0]);
    expect(t.assigned).toEqual([[0, 1]]);
    await consumer.deliver(0, [0, 1, 2]);
    await consumer.deliver(1, [7]);
    await until(() => consumer.commits.length === 2, 'two commits');
    expect(t.invoked.sort()).toEqual([[0, 1, 2], [7]]);
    expect(consumer.commits.sort()).toEqual(['0@3', '1@8']);
    await t.source.stop();
    expect(consumer.disconnected).toBe(true);
  });

  it('commits nothing of a failed invocation and delivers the batch again', async () => {
    let calls = 0;
    const t = setup(async () => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
    });
    t.source.start();
    await until(() => t.fake.latest()?.eachBatch !== undefined, 'the consumer to run');
    const consumer = t.fake.latest();
    consumer.join([0]);
    await consumer.deliver(0, [5, 6]);
    await until(() => consumer.commits.length === 1, 'a commit');
    expect(t.invoked).toEqual([
      [5, 6],
      [5, 6],
    ]);
    expect(consumer.commits).toEqual(['0@7']);
    await t.source.stop();
  });

  it('pauses a partition whose worker fell behind and resumes it once the worker caught up', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const t = setup(() => held, { batchSize: 100 });
    t.source.start();
    await until(() => t.fake.latest()?.eachBatch !== undefined, 'the consumer to run');
    const consumer = t.fake.latest();
    consumer.join([2]);
    await consumer.deliver(
      2,
      Array.from({ length: 5000 }, (_, i) => i),
    );
    expect(consumer.paused).toEqual([2]);
    expect(consumer.resumed).toEqual([]);
    release();
    await until(() => consumer.resumed.length === 1, 'the partition resumed');
    expect(consumer.resumed).toEqual([2]);
    await until(() => consumer.commits.includes('2@5000'), 'everything committed');
    await t.source.stop();
  });

  it('tells an unreachable broker to the outage sink, not the log, and keeps trying until it joins', async () => {
    const t = setup();
    t.fake.state.failConnects = 3;
    t.fake.state.connectError = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
      name: 'KafkaJSConnectionError',
    });
    t.source.start();
    await until(() => t.fake.latest()?.eachBatch !== undefined, 'the consumer to run');
    t.fake.latest().join([0]);
    expect(t.told).toEqual([
      ...Array(3).fill('failure worker <- order-events: Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
      'success worker <- order-events',
    ]);
    expect(t.logs).toEqual([]);
    await t.source.stop();
  });

  it('says plainly when the topic does not exist, and that it retries', async () => {
    const t = setup();
    t.fake.state.topicMissing = true;
    t.source.start();
    await until(() => t.logs.length > 0, 'a log line');
    expect(t.logs[0]).toMatch(
      /^error: worker <- order-events: cannot consume from Kafka at 127\.0\.0\.1:9092: the topic order-events does not exist \(this plugin never creates topics: create it first\)\. Retrying in/,
    );
    expect(t.told).toEqual([]);
    t.fake.state.topicMissing = false;
    await t.source.stop();
  });

  it('starts the consumer again after a crash kafkajs does not restart from', async () => {
    const t = setup();
    t.source.start();
    await until(() => t.fake.latest()?.eachBatch !== undefined, 'the consumer to run');
    t.fake.latest().crash(new Error('The coordinator is not aware of this member'), false);
    await until(() => t.fake.consumers.length === 2 && t.fake.latest().eachBatch !== undefined, 'a second consumer');
    expect(t.logs).toEqual([
      'error: worker <- order-events: consumer crashed (The coordinator is not aware of this member)',
    ]);
    await t.source.stop();
  });
});
