/**
 * npm run bench:throughput [-- --records 100000 --size 1024 --partitions 6 --batch-size 100 --rounds 3 --json]
 *
 * Produces N records to a fresh topic, then measures, on that same topic in the same run:
 *  1. records/s delivered by the local event source (serverless offline + serverless-offline-kafka) to a no-op handler;
 *  2. records/s of a plain kafkajs `eachBatch` consumer (the baseline).
 * Each rate runs from the end of the first delivered batch to the last (group joins and the first
 * batch are not counted), both sides alike. Both runs must see every offset exactly once, or the
 * benchmark fails. The machine is shared, so each round measures both (fresh consumer groups) and the
 * medians are reported; `ratio` is the median of the per-round ratios. With --json the last line is one
 * JSON object.
 *
 * A third figure, `handoff_rps`, needs no broker: how many records/s one thread can turn into AWS-shaped
 * events (packages/serverless-offline-kafka/src/event.ts, batchSize records each) and hand to a worker thread that answers
 * (`postMessage` with a reply port, as serverless-offline's runner does), with no Kafka and no handler.
 * It is a ceiling for any event source that invokes through worker threads on this machine, whatever
 * the baseline does.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { waitForTopicLeaders } from 'kafkajs-resilience';
import { buildEvent, recordSize, toLambdaRecord, type EventOrigin } from 'serverless-offline-kafka/event';
import { brokersOf } from '../broker/address';
import { startOffline } from '../test/helpers/offline';
import { median } from './lib/stats';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    size: { type: 'string', default: '1024' },
    partitions: { type: 'string', default: '6' },
    'batch-size': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const RECORDS = Number(args.records);
const SIZE = Number(args.size);
const PARTITIONS = Number(args.partitions);
const BATCH_SIZE = Number(args['batch-size']);
const ROUNDS = Number(args.rounds);
const BROKERS = brokersOf().split(',');
const FIXTURE_DIR = resolve(__dirname, '..', 'packages', 'serverless-offline-kafka', 'test', 'fixtures');
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
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  await waitForTopicLeaders(admin, [topic]);
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
  let firstCount = 0;
  let last = 0;
  await new Promise<void>((done, fail) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        try {
          coverage.add(batch.partition, Number(batch.firstOffset()), Number(batch.lastOffset()));
        } catch (error) {
          fail(error);
        }
        last = Date.now();
        if (first === 0) [first, firstCount] = [last, coverage.count];
        if (coverage.complete) done();
      },
    });
  });
  await consumer.disconnect();
  return ((RECORDS - firstCount) / (last - first)) * 1000;
}

async function measureEventSource(topic: string, ends: number[], round: number): Promise<number> {
  const reportFile = resolve(FIXTURE_DIR, '.esbuild', `bench-${randomBytes(4).toString('hex')}.jsonl`);
  const offline = await startOffline({
    cwd: FIXTURE_DIR,
    config: 'bench.yml',
    env: {
      TOPIC_BENCH: topic,
      REPORT_FILE: reportFile,
      BENCH_BATCH_SIZE: String(BATCH_SIZE),
      BENCH_GROUP: `${topic}-event-source-${round}`,
    },
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
        // handler-side wall clock at the end of each invocation, like the raw consumer's
        const sorted = [...lines].sort((a, b) => a.at - b.at);
        return ((RECORDS - sorted[0]!.count) / (sorted[sorted.length - 1]!.at - sorted[0]!.at)) * 1000;
      }
      if (Date.now() > deadline) throw new Error(`event source delivered ${coverage.count} of ${RECORDS} records`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await offline.stop();
    rmSync(reportFile, { force: true });
  }
}

/** records/s of building events and handing them to a worker thread that answers: no Kafka, no handler. */
async function measureHandoff(): Promise<number> {
  const worker = new Worker(
    "require('node:worker_threads').parentPort.on('message', ({ port }) => { port.postMessage(null); port.close(); });",
    { eval: true },
  );
  const settings = {
    kind: 'msk',
    eventSourceArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/local-cluster/abcd-1234',
    bootstrapServers: BROKERS.join(','),
  } satisfies EventOrigin;
  const value = randomBytes(SIZE);
  const handOff = (event: unknown) =>
    new Promise<void>((done) => {
      const { port1, port2 } = new MessageChannel();
      port1.once('message', () => {
        port1.close();
        done();
      });
      worker.postMessage({ event, port: port2 }, [port2]);
    });
  const invocations = Math.ceil(RECORDS / BATCH_SIZE);
  const started = performance.now();
  for (let i = 0; i < invocations; i += 1) {
    const records = Array.from({ length: BATCH_SIZE }, (_, j) => {
      const record = toLambdaRecord({
        topic: 'bench-handoff',
        partition: i % PARTITIONS,
        offset: String(i * BATCH_SIZE + j),
        timestamp: String(Date.now()),
        logAppendTime: false,
        key: null,
        value,
        headers: {},
      });
      recordSize(record); // the event source sizes every record (6 MB cap) too
      return record;
    });
    await handOff(buildEvent(settings, records));
  }
  const rps = ((invocations * BATCH_SIZE) / (performance.now() - started)) * 1000;
  await worker.terminate();
  return rps;
}

async function main(): Promise<void> {
  const topic = `bench-throughput-${Date.now().toString(36)}`;
  say(`producing ${RECORDS} records of ${SIZE} bytes over ${PARTITIONS} partitions to ${topic}`);
  const ends = await produceAll(topic);
  try {
    const rounds: Array<{ eventSource: number; raw: number; handoff: number }> = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const eventSource = await measureEventSource(topic, ends, round);
      const raw = await measureRaw(topic, ends);
      const handoff = await measureHandoff();
      rounds.push({ eventSource, raw, handoff });
      say(
        `round ${round}: event source (batchSize ${BATCH_SIZE}, no-op handler) ${Math.round(eventSource)} records/s, ` +
          `plain kafkajs eachBatch ${Math.round(raw)} records/s, ratio ${(eventSource / raw).toFixed(3)}; ` +
          `every offset exactly once in both; event build + worker hand-off alone ${Math.round(handoff)} records/s`,
      );
    }
    const result = {
      records: RECORDS,
      record_bytes: SIZE,
      partitions: PARTITIONS,
      batch_size: BATCH_SIZE,
      rounds: ROUNDS,
      event_source_rps: Math.round(median(rounds.map((r) => r.eventSource))),
      raw_rps: Math.round(median(rounds.map((r) => r.raw))),
      ratio: Number(median(rounds.map((r) => r.eventSource / r.raw)).toFixed(3)),
      handoff_rps: Math.round(median(rounds.map((r) => r.handoff))),
    };
    say(
      `median: event source ${result.event_source_rps} records/s, raw ${result.raw_rps} records/s, ratio ${result.ratio}; ` +
        `event build + worker hand-off alone ${result.handoff_rps} records/s`,
    );
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
