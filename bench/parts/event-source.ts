/**
 * The event-source half of `npm run bench`: the same indexed records delivered to the same no-op handler
 * by this project's event source in both modes, by the other Kafka event source on npm and by a plain
 * kafkajs `eachBatch` consumer, round after round with fresh groups: records/s steady and from process
 * start, and the records each lost or delivered twice.
 */
import { closeSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { createTopics } from 'kafkajs-resilience';
import { startOffline } from '../../test/helpers/offline';
import { deleteTopics, Delivery, indexOf, produceIndexed, withAdmin } from '../lib/kafka';
import { MODE_ARGS, type BenchReport, type Mode, type Throughput } from '../lib/report';
import { median } from '../lib/stats';

export interface EventSourceOptions {
  kafka: Kafka;
  brokers: string[];
  /** the benchmark's fixture services (ours.yml, peer.yml) */
  fixtures: string;
  records: number;
  /** bytes per record */
  size: number;
  partitions: number;
  batchSize: number;
  rounds: number;
  say(line: string): void;
}

interface Run {
  rps: number;
  fromStartRps: number;
  lost: number;
  duplicates: number;
}

/** Rates from (time, records) points: steady from the first delivery on, and from `startedAt`. */
function rates(points: { at: number; count: number }[], startedAt: number, delivery: Delivery): Run {
  const sorted = [...points].sort((a, b) => a.at - b.at);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const steady =
    first && last && last.at > first.at ? ((delivery.delivered - first.count) / (last.at - first.at)) * 1000 : NaN;
  const fromStart = last ? (delivery.unique / (last.at - startedAt)) * 1000 : 0;
  return { rps: steady, fromStartRps: fromStart, lost: delivery.lost, duplicates: delivery.duplicates };
}

/** Wait until `poll` has seen every record, or until nothing new arrived for `quietMs` (the rest is lost). */
async function collect(poll: () => Delivery, quietMs: number, capMs: number): Promise<Delivery> {
  const started = Date.now();
  let seen = -1;
  let changedAt = Date.now();
  for (;;) {
    const delivery = poll();
    if (delivery.complete) return delivery;
    if (delivery.delivered !== seen) [seen, changedAt] = [delivery.delivered, Date.now()];
    if (Date.now() - changedAt > quietMs || Date.now() - started > capMs) return delivery;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The lines appended to `file` since the last call (none while it does not exist yet): polling reads and
 * parses each line once, so it takes no more CPU from the contestant as the report grows.
 */
function newLinesOf(file: string): () => string[] {
  let position = 0;
  let partial = '';
  return () => {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return [];
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= position) return [];
      const chunk = Buffer.alloc(size - position);
      readSync(fd, chunk, 0, chunk.length, position);
      position = size;
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      return lines.filter(Boolean);
    } finally {
      closeSync(fd);
    }
  };
}

/** One serverless offline event source (ours or the peer) from process start to the last record. */
async function offlineRun(
  options: EventSourceOptions,
  config: string,
  mode: Mode,
  topic: string,
  group: string,
): Promise<Run> {
  const reportFile = join(tmpdir(), `${group}.jsonl`);
  rmSync(reportFile, { force: true });
  const startedAt = Date.now();
  const offline = await startOffline({
    cwd: options.fixtures,
    config,
    args: MODE_ARGS[mode],
    env: {
      BENCH_TOPIC: topic,
      BENCH_GROUP: group,
      BENCH_BATCH_SIZE: String(options.batchSize),
      REPORT_FILE: reportFile,
      KAFKA_BROKERS: options.brokers.join(','),
    },
    timeoutMs: 120_000,
  });
  try {
    const delivery = new Delivery(options.records);
    const points: { at: number; count: number }[] = [];
    const readNewLines = newLinesOf(reportFile);
    await collect(
      () => {
        for (const line of readNewLines()) {
          const { at, ids } = JSON.parse(line) as { at: number; ids: number[] };
          for (const id of ids) delivery.add(id);
          points.push({ at, count: ids.length });
        }
        return delivery;
      },
      20_000,
      300_000,
    );
    return rates(points, startedAt, delivery);
  } finally {
    await offline.stop();
    rmSync(reportFile, { force: true });
  }
}

/** A plain kafkajs eachBatch consumer that does what the no-op handler does with each record. */
async function kafkajsRun(options: EventSourceOptions, topic: string, group: string): Promise<Run> {
  const { kafka } = options;
  const startedAt = Date.now();
  const delivery = new Delivery(options.records);
  const points: { at: number; count: number }[] = [];
  const consumer = kafka.consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) delivery.add(indexOf(message.value!));
      points.push({ at: Date.now(), count: batch.messages.length });
    },
  });
  try {
    await collect(() => delivery, 20_000, 300_000);
    return rates(points, startedAt, delivery);
  } finally {
    await consumer.disconnect();
  }
}

export async function eventSource(options: EventSourceOptions): Promise<BenchReport['throughput']> {
  const { kafka, records, size, partitions, rounds, say } = options;
  const topic = `bench-es-${Date.now().toString(36)}`;
  await withAdmin(kafka, (admin) => createTopics(admin, [{ topic, numPartitions: partitions }]));
  try {
    say(`producing ${records} records of ${size} bytes over ${partitions} partitions to ${topic}`);
    await produceIndexed(kafka, topic, partitions, records, size);
    const contestants: Record<string, (group: string) => Promise<Run>> = {
      worker: (group) => offlineRun(options, 'ours.yml', 'worker', topic, group),
      in_process: (group) => offlineRun(options, 'ours.yml', 'in_process', topic, group),
      peer: (group) => offlineRun(options, 'peer.yml', 'worker', topic, group),
      kafkajs: (group) => kafkajsRun(options, topic, group),
    };
    const runs = new Map<string, Run[]>(Object.keys(contestants).map((k) => [k, []]));
    for (let round = 1; round <= rounds; round += 1) {
      for (const [name, run] of Object.entries(contestants)) {
        const result = await run(`${topic}-${name}-${round}`);
        runs.get(name)!.push(result);
        say(
          `round ${round}, ${name}: ${Math.round(result.rps)} records/s, ${Math.round(result.fromStartRps)} from process start, ` +
            `lost ${result.lost}, duplicated ${result.duplicates}`,
        );
      }
    }
    const summary = (name: string): Throughput => {
      const r = runs.get(name)!;
      return {
        rps: Math.round(median(r.map((x) => x.rps))),
        from_start_rps: Math.round(median(r.map((x) => x.fromStartRps))),
        lost: r.reduce((a, x) => a + x.lost, 0),
        duplicates: r.reduce((a, x) => a + x.duplicates, 0),
      };
    };
    return {
      worker: summary('worker'),
      in_process: summary('in_process'),
      peer: summary('peer'),
      kafkajs: summary('kafkajs'),
    };
  } finally {
    await deleteTopics(kafka, [topic]);
  }
}
