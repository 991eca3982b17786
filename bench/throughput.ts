/**
 * npm run bench:throughput [-- --records 100000 --size 1024 --partitions 6 --batch-size 100 --json]
 *
 * Produces N records to a fresh topic, then measures, on that same topic in the same run:
 *  1. records/s delivered by the local event source (serverless offline + lib/offline) to a no-op handler;
 *  2. records/s of a plain kafkajs `eachBatch` consumer (the baseline).
 * Each rate runs from the first record delivered to the last (group joins are not counted). Both runs
 * must see every offset exactly once, or the benchmark fails. With --json the last line is one JSON object.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { startOffline } from '../test/helpers/offline';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    size: { type: 'string', default: '1024' },
    partitions: { type: 'string', default: '6' },
    'batch-size': { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
  },
});
const RECORDS = Number(args.records);
const SIZE = Number(args.size);
const PARTITIONS = Number(args.partitions);
const BATCH_SIZE = Number(args['batch-size']);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const FIXTURE_DIR = resolve(__dirname, '..', 'test', 'fixtures', 'event-source');
const kafka = new Kafka({ clientId: 'bench-throughput', brokers: BROKERS, logLevel: logLevel.NOTHING });

const say = (line: string) => console.error(line);

/** Offsets seen per partition; fails on a duplicate, and tells whether all `perPartition` arrived. */
class Coverage {
  readonly #seen: Uint8Array[];
  count = 0;
  constructor(readonly ends: number[]) {
    this.#seen = ends.map((n) => new Uint8Array(n));
  }
  add(partition: number, first: number, last: number): void {
    for (let o = first; o <= last; o += 1) {
      if (this.#seen[partition]![o]) throw new Error(`duplicate delivery of partition ${partition} offset ${o}`);
      this.#seen[partition]![o] = 1;
      this.count += 1;
    }
  }
  get complete(): boolean {
    return this.count === this.ends.reduce((a, b) => a + b, 0);
  }
}

async function produceAll(topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const value = randomBytes(SIZE / 2).toString('hex');
  for (let i = 0; i < RECORDS; i += 1000) {
    const n = Math.min(1000, RECORDS - i);
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: n }, (_, j) => ({ partition: (i + j) % PARTITIONS, value })),
    });
  }
  await producer.disconnect();
  const ends = (await admin.fetchTopicOffsets(topic))
    .sort((a, b) => a.partition - b.partition)
    .map((o) => Number(o.high));
  await admin.disconnect();
  return ends;
}

async function measureRaw(topic: string, ends: number[]): Promise<number> {
  const coverage = new Coverage(ends);
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let first = 0;
  let last = 0;
  await new Promise<void>((done, fail) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (first === 0) first = performance.now();
        try {
          coverage.add(batch.partition, Number(batch.firstOffset()), Number(batch.lastOffset()));
        } catch (error) {
          fail(error);
        }
        last = performance.now();
        if (coverage.complete) done();
      },
    });
  });
  await consumer.disconnect();
  return (RECORDS / (last - first)) * 1000;
}

async function measureEventSource(topic: string, ends: number[]): Promise<number> {
  const reportFile = resolve(FIXTURE_DIR, '.esbuild', `bench-${randomBytes(4).toString('hex')}.jsonl`);
  const offline = await startOffline({
    cwd: FIXTURE_DIR,
    config: 'bench.yml',
    env: { TOPIC_BENCH: topic, REPORT_FILE: reportFile, BENCH_BATCH_SIZE: String(BATCH_SIZE) },
    readyPattern: /kafka: ready: /,
    timeoutMs: 120_000,
  });
  try {
    const deadline = Date.now() + 600_000;
    for (;;) {
      let text = '';
      try {
        text = readFileSync(reportFile, 'utf8');
      } catch {
        text = '';
      }
      const lines = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { at: number; partition: number; first: number; last: number; count: number });
      const coverage = new Coverage(ends);
      for (const l of lines) coverage.add(l.partition, l.first, l.last);
      if (coverage.complete) {
        // the first invocation's line is written when it ends; take its start from its own duration-free
        // timestamp minus nothing: both ends are handler-side wall clock times of whole invocations
        const at = lines.map((l) => l.at);
        return (RECORDS / (Math.max(...at) - Math.min(...at))) * 1000;
      }
      if (Date.now() > deadline) throw new Error(`event source delivered ${coverage.count} of ${RECORDS} records`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await offline.stop();
  }
}

async function main(): Promise<void> {
  const topic = `bench-throughput-${Date.now().toString(36)}`;
  say(`producing ${RECORDS} records of ${SIZE} bytes over ${PARTITIONS} partitions to ${topic}`);
  const ends = await produceAll(topic);
  try {
    say(`event source (serverless offline, batchSize ${BATCH_SIZE}, no-op handler)...`);
    const eventSourceRps = await measureEventSource(topic, ends);
    say(`  ${Math.round(eventSourceRps)} records/s, every offset exactly once`);
    say('plain kafkajs eachBatch consumer...');
    const rawRps = await measureRaw(topic, ends);
    say(`  ${Math.round(rawRps)} records/s, every offset exactly once`);
    const result = {
      records: RECORDS,
      record_bytes: SIZE,
      partitions: PARTITIONS,
      batch_size: BATCH_SIZE,
      event_source_rps: Math.round(eventSourceRps),
      raw_rps: Math.round(rawRps),
      ratio: Number((eventSourceRps / rawRps).toFixed(3)),
    };
    say(`ratio ${result.ratio} (target >= 0.8)`);
    if (args.json) console.log(JSON.stringify(result));
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
