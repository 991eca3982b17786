/**
 * npm run bench [-- --json --requests 1000 --records 100000 --size 1024 --partitions 6 --batch-size 100 --rounds 5]
 *
 * One run, one broker, side by side (docs/benchmarks.md), in two parts (bench/parts):
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
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { brokersOf } from '../broker/address';
import { MODES, renderTables, type BenchReport, type Mode } from './lib/report';
import { round1 } from './lib/stats';
import { eventSource } from './parts/event-source';
import { c1Requests, requestReply } from './parts/request-reply';

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

async function main(): Promise<void> {
  const started = Date.now();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map(round1).join(' ')} at start`;
  say(`machine: ${machine}; broker ${BROKERS.join(',')}`);
  const defaults = defaultMode();
  const rpcOptions = { kafka, root: ROOT, fixtures: FIXTURES, requests: REQUESTS, defaults, say };
  const esOptions = {
    kafka,
    brokers: BROKERS,
    fixtures: FIXTURES,
    records: RECORDS,
    size: SIZE,
    partitions: PARTITIONS,
    batchSize: BATCH_SIZE,
    rounds: ROUNDS,
    say,
  };
  if (args.only === 'rpc') return void (await requestReply(rpcOptions));
  if (args.only === 'throughput') return void (await eventSource(esOptions));
  const rpc = await requestReply(rpcOptions);
  const throughput = await eventSource(esOptions);
  const report: BenchReport = {
    default: defaults,
    rpc,
    throughput,
    setup: {
      requests_c16: REQUESTS,
      requests_c1: c1Requests(REQUESTS),
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
