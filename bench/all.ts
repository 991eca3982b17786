/**
 * npm run bench [-- --json --requests 1000 --records 100000 --size 1024 --partitions 6 --batch-size 100 --rounds 5]
 *
 * One run, one broker, side by side (docs/benchmarks.md):
 * - request-reply, POST /quotes through `serverless offline` (quote → quote-requests → the local event
 *   source → price-quote → quote-replies → the reply listener), at concurrency 1 and 16, in both
 *   invocation modes (worker threads, and `--useInProcess`), against two floors: a raw kafkajs request →
 *   reply round trip, and serverless offline answering the same POST from a no-op function with no Kafka
 *   (what serverless offline itself costs per request); every answer is checked against its request;
 * - how many containers read each reply (reply partitions shared by containers);
 * - the event source, in both modes, against a plain kafkajs `eachBatch` consumer and against the other
 *   Kafka event source on npm (@gabrielgollo/serverless-offline-kafka, the devDependency
 *   peer-offline-kafka), on the same topic with the same handler and batchSize: records/s steady and
 *   from process start, and for every contestant the records it lost or delivered twice (each record's
 *   value starts with its index, so this holds even where a contestant labels partitions wrongly).
 * Prints the tables (markdown); with --json the last line is one JSON object (bench/lib/report.ts).
 * `--only rpc` or `--only throughput` measures one half, for quick comparisons (progress lines only).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { brokersOf } from '../broker/address';
import TOPIC_NAMES from '../lib/kafka/topic-names.json';
import { TOPICS } from '../lib/kafka/topics';
import { startOffline, type OfflineProcess } from '../test/helpers/offline';
import { postQuote, type Call } from './lib/http';
import { createTopics, deleteTopics, Delivery, indexOf, produceIndexed, startKafkaFloor } from './lib/kafka';
import {
  MODE_LABEL,
  MODES,
  readsPerReply,
  renderTables,
  type BenchReport,
  type Mode,
  type RpcLevels,
  type Throughput,
} from './lib/report';
import { drive, median, round1 } from './lib/stats';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    records: { type: 'string', default: '100000' },
    size: { type: 'string', default: '1024' },
    partitions: { type: 'string', default: '6' },
    'batch-size': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    // 'rpc' or 'throughput': measure one half only (prints its progress lines, no table)
    only: { type: 'string' },
  },
});
const REQUESTS = Number(args.requests);
const REQUESTS_C1 = Math.min(REQUESTS, 300);
const RECORDS = Number(args.records);
const SIZE = Number(args.size);
const PARTITIONS = Number(args.partitions);
const BATCH_SIZE = Number(args['batch-size']);
const ROUNDS = Number(args.rounds);
const ROOT = resolve(__dirname, '..');
const FIXTURES = resolve(__dirname, 'fixtures');
const BROKERS = brokersOf().split(',');
const PEER = 'peer-offline-kafka';
const kafka = new Kafka({ clientId: 'bench', brokers: BROKERS, logLevel: logLevel.NOTHING });
const say = (line: string) => console.error(`[bench] ${line}`);
/** The fixture services set no mode: the command line's `--useInProcess` picks it (HTTP and Kafka alike). */
const modeArgs = (mode: Mode) => (mode === 'in_process' ? ['--useInProcess'] : []);
/** This project's serverless.yml reads its HTTP functions' mode from OFFLINE_IN_PROCESS (Kafka-triggered ones: worker threads). */
const modeEnv = (mode: Mode) => ({ OFFLINE_IN_PROCESS: String(mode === 'in_process') });

/** The mode `npm start` runs HTTP functions in: OFFLINE_IN_PROCESS's fallback in serverless.yml. */
function defaultMode(): Mode {
  const fallback = /\$\{env:OFFLINE_IN_PROCESS, '(true|false)'\}/.exec(
    readFileSync(join(ROOT, 'serverless.yml'), 'utf8'),
  );
  if (!fallback)
    throw new Error('serverless.yml: custom.serverless-offline.useInProcess no longer reads OFFLINE_IN_PROCESS');
  return fallback[1] === 'true' ? 'in_process' : 'worker';
}

function peerVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', PEER, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  return `${pkg.name} ${pkg.version}`;
}

// ---------------------------------------------------------------------------------------------- request-reply

/** c1 and c16 of `call`, each level warmed up first (serverless offline starts a worker per concurrent call). */
async function levels(call: Call, label: string): Promise<RpcLevels> {
  await drive(16 * 4, 16, (i) => call(i, 'warm'));
  const c1 = await drive(REQUESTS_C1, 1, (i) => call(i, 'c1'));
  const c16 = await drive(REQUESTS, 16, (i) => call(i, 'c16'));
  say(
    `${label}: c1 p50 ${c1.p50_ms} ms p99 ${c1.p99_ms} ms ${c1.rps} req/s | c16 p50 ${c16.p50_ms} ms p99 ${c16.p99_ms} ms ` +
      `${c16.rps} req/s | errors ${c1.errors + c16.errors}, mismatches ${c1.mismatches + c16.mismatches}`,
  );
  return { c1, c16 };
}

/** Reply partitions held by the live reply listeners (one group each), and replies written per partition. */
async function replyReads(prefix: string): Promise<{ readsPerReply: number; containers: number }> {
  const replyTopic = `${prefix}${TOPIC_NAMES.quoteReplies}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((id) => id.includes(`.reply.${replyTopic}.`));
    const listeners = new Map<number, number>();
    let containers = 0;
    if (groups.length > 0) {
      for (const group of (await admin.describeGroups(groups)).groups) {
        for (const member of group.members) {
          const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {};
          for (const partition of assignment[replyTopic] ?? [])
            listeners.set(partition, (listeners.get(partition) ?? 0) + 1);
          containers += 1;
        }
      }
    }
    const replies = new Map(
      (await admin.fetchTopicOffsets(replyTopic)).map((o) => [o.partition, Number(o.high)] as const),
    );
    return { readsPerReply: readsPerReply(replies, listeners), containers };
  } finally {
    await admin.disconnect();
  }
}

async function requestReply(defaults: Mode): Promise<BenchReport['rpc']> {
  const floor = await (async () => {
    const prefix = `bench-floor-${Date.now().toString(36)}-`;
    const floor = await startKafkaFloor(kafka, prefix);
    try {
      const call: Call = async (i, tag) => {
        const productId = `${tag}-${i}`;
        const answer = JSON.parse(await floor.call({ productId, quantity: 1 })) as { productId: string };
        return answer.productId === productId ? 'ok' : 'mismatch';
      };
      return await levels(call, 'floor: raw kafkajs round trip');
    } finally {
      await floor.stop();
    }
  })();

  const http = await (async () => {
    const offline = await startOffline({
      cwd: FIXTURES,
      config: 'http.yml',
      args: modeArgs(defaults),
      timeoutMs: 120_000,
    });
    try {
      return await levels(postQuote(`${offline.url}/quotes`), 'floor: serverless offline, no-op HTTP function');
    } finally {
      await offline.stop();
    }
  })();

  const byMode = {} as Record<Mode, RpcLevels>;
  const reads = {} as Record<Mode, { readsPerReply: number; containers: number }>;
  for (const mode of MODES) {
    const prefix = `bench-rpc-${mode}-${Date.now().toString(36)}-`;
    const declared = TOPICS.map((t) => ({ topic: `${prefix}${t.name}`, numPartitions: t.partitions }));
    await createTopics(kafka, declared);
    let offline: OfflineProcess | undefined;
    try {
      offline = await startOffline({
        cwd: ROOT,
        env: { KAFKA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'error', REPLY_TIMEOUT_MS: '9000', ...modeEnv(mode) },
        readyPattern: /kafka: ready: /,
        timeoutMs: 180_000,
      });
      byMode[mode] = await levels(postQuote(`${offline.url}/quotes`), `this project, ${MODE_LABEL[mode]}`);
      reads[mode] = await replyReads(prefix);
      say(
        `reads per reply (${MODE_LABEL[mode]}): ${reads[mode].readsPerReply} over ${reads[mode].containers} containers`,
      );
    } finally {
      await offline?.stop();
      await deleteTopics(
        kafka,
        declared.map((t) => t.topic),
      );
    }
  }
  return {
    ...byMode,
    floor_kafka: floor,
    floor_http: http,
    reads_per_reply: reads[defaults].readsPerReply,
    reads_per_reply_by_mode: { worker: reads.worker.readsPerReply, in_process: reads.in_process.readsPerReply },
    containers_by_mode: { worker: reads.worker.containers, in_process: reads.in_process.containers },
  };
}

// ---------------------------------------------------------------------------------------------- event source

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
async function offlineRun(config: string, mode: Mode, topic: string, group: string): Promise<Run> {
  const reportFile = join(tmpdir(), `${group}.jsonl`);
  rmSync(reportFile, { force: true });
  const startedAt = Date.now();
  const offline = await startOffline({
    cwd: FIXTURES,
    config,
    args: modeArgs(mode),
    env: {
      BENCH_TOPIC: topic,
      BENCH_GROUP: group,
      BENCH_BATCH_SIZE: String(BATCH_SIZE),
      REPORT_FILE: reportFile,
      KAFKA_BROKERS: BROKERS.join(','),
    },
    timeoutMs: 120_000,
  });
  try {
    const delivery = new Delivery(RECORDS);
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
async function kafkajsRun(topic: string, group: string): Promise<Run> {
  const startedAt = Date.now();
  const delivery = new Delivery(RECORDS);
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

async function eventSource(): Promise<BenchReport['throughput']> {
  const topic = `bench-es-${Date.now().toString(36)}`;
  await createTopics(kafka, [{ topic, numPartitions: PARTITIONS }]);
  try {
    say(`producing ${RECORDS} records of ${SIZE} bytes over ${PARTITIONS} partitions to ${topic}`);
    await produceIndexed(kafka, topic, PARTITIONS, RECORDS, SIZE);
    const contestants: Record<string, (group: string) => Promise<Run>> = {
      worker: (group) => offlineRun('ours.yml', 'worker', topic, group),
      in_process: (group) => offlineRun('ours.yml', 'in_process', topic, group),
      peer: (group) => offlineRun('peer.yml', 'worker', topic, group),
      kafkajs: (group) => kafkajsRun(topic, group),
    };
    const runs = new Map<string, Run[]>(Object.keys(contestants).map((k) => [k, []]));
    for (let round = 1; round <= ROUNDS; round += 1) {
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

async function main(): Promise<void> {
  const started = Date.now();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map(round1).join(' ')} at start`;
  say(`machine: ${machine}; broker ${BROKERS.join(',')}`);
  const defaults = defaultMode();
  if (args.only === 'rpc') return void (await requestReply(defaults));
  if (args.only === 'throughput') return void (await eventSource());
  const rpc = await requestReply(defaults);
  const throughput = await eventSource();
  const report: BenchReport = {
    default: defaults,
    rpc,
    throughput,
    setup: {
      requests_c16: REQUESTS,
      requests_c1: REQUESTS_C1,
      records: RECORDS,
      record_bytes: SIZE,
      partitions: PARTITIONS,
      batch_size: BATCH_SIZE,
      rounds: ROUNDS,
      peer: peerVersion(),
      machine,
      node: process.version,
      seconds: Math.round((Date.now() - started) / 1000),
    },
  };
  console.log(renderTables(report));
  // what a contestant got wrong is said in words too, not only as a number in a table
  for (const [name, t] of Object.entries(throughput)) {
    if (t.lost > 0 || t.duplicates > 0)
      console.log(`NOTE: event source ${name} lost ${t.lost} and duplicated ${t.duplicates} records`);
  }
  for (const name of [...MODES, 'floor_kafka', 'floor_http'] as const) {
    const { c1, c16 } = rpc[name];
    const [errors, mismatches] = [c1.errors + c16.errors, c1.mismatches + c16.mismatches];
    if (errors > 0 || mismatches > 0)
      console.log(`NOTE: request-reply ${name}: ${errors} errors, ${mismatches} answers to another request`);
  }
  if (args.json) console.log(JSON.stringify(report));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
