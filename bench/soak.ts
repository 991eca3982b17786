/**
 * npm run bench:soak [-- --minutes 10 --concurrency 16 --json]
 *
 * Sustained load, as `npm start` runs the service: POST /quotes and POST /orders (half the callers
 * each) at a fixed concurrency for `--minutes`, through `serverless offline` on its own prefixed topics.
 * Every 30 s it samples the offline process's RSS and the heap of its main thread and of each worker
 * thread (bench/lib/memory-probe.cjs, preloaded); it prints per minute the answers, p50 and p99 of each
 * route, errors and mismatches, the memory, and the drift: the last minute against the second (the
 * first is warm-up). With --json the last line is one JSON object.
 */
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createTopics } from 'kafkajs-resilience';
import { brokersOf } from '../broker/address';
import { TOPICS } from '../lib/kafka/topics';
import { startOffline, type OfflineProcess } from '../test/helpers/offline';
import { postOrder, postQuote } from './lib/http';
import { deleteTopics, withAdmin } from './lib/kafka';
import { median, percentile, round1, slope, type Outcome } from './lib/stats';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { memoryProbeFile } = require('./lib/memory-probe-file.cjs') as { memoryProbeFile: (pid: number) => string };

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
  },
});
const MINUTES = Number(args.minutes);
const CONCURRENCY = Number(args.concurrency);
/** the probe's interval in worker threads, which cannot be told another */
const SAMPLE_MS = 30_000;
const ROOT = resolve(__dirname, '..');
const say = (line: string) => console.error(`[soak] ${line}`);
const MB = (bytes: number) => round1(bytes / 1024 / 1024);

type Route = 'quotes' | 'orders';
interface Answer {
  at: number;
  route: Route;
  ms: number;
  outcome: Outcome;
}

interface MinuteRow {
  minute: number;
  requests: number;
  quotes_p50_ms: number;
  quotes_p99_ms: number;
  orders_p50_ms: number;
  orders_p99_ms: number;
  errors: number;
  mismatches: number;
}

function perMinute(answers: Answer[], started: number): MinuteRow[] {
  const rows: MinuteRow[] = [];
  for (let minute = 0; minute < MINUTES; minute += 1) {
    const inMinute = answers.filter((a) => Math.floor((a.at - started) / 60_000) === minute);
    const ms = (route: Route) =>
      inMinute
        .filter((a) => a.route === route && a.outcome === 'ok')
        .map((a) => a.ms)
        .sort((x, y) => x - y);
    const [quotes, orders] = [ms('quotes'), ms('orders')];
    rows.push({
      minute,
      requests: inMinute.length,
      quotes_p50_ms: round1(percentile(quotes, 50)),
      quotes_p99_ms: round1(percentile(quotes, 99)),
      orders_p50_ms: round1(percentile(orders, 50)),
      orders_p99_ms: round1(percentile(orders, 99)),
      errors: inMinute.filter((a) => a.outcome === 'error').length,
      mismatches: inMinute.filter((a) => a.outcome === 'mismatch').length,
    });
  }
  return rows;
}

interface MemorySample {
  at: number;
  pid: number;
  thread: number;
  rss: number;
  heapUsed: number;
  /** memory of C++ objects bound to JavaScript ones (Buffers among them): outside the heap, inside the RSS */
  external?: number;
}

/** One row per sampling time: the process's RSS, the main thread's heap and the worker threads' heaps. */
function memoryRows(samples: MemorySample[], started: number) {
  const byTime = new Map<number, MemorySample[]>();
  for (const s of samples) {
    const slot = Math.round((s.at - started) / SAMPLE_MS);
    if (slot < 0) continue;
    byTime.set(slot, [...(byTime.get(slot) ?? []), s]);
  }
  const threads = Math.max(...[...byTime.values()].map((list) => list.length));
  return (
    [...byTime.entries()]
      // a time at which some threads had not written yet (the end of the run) would count less heap
      .filter(([, list]) => list.length >= threads / 2)
      .sort(([a], [b]) => a - b)
      .map(([slot, list]) => {
        const main = list.filter((s) => s.thread === 0);
        const workers = list.filter((s) => s.thread !== 0);
        return {
          at_s: (slot * SAMPLE_MS) / 1000,
          rss_mb: MB(Math.max(...list.map((s) => s.rss))),
          main_heap_mb: MB(main.reduce((n, s) => Math.max(n, s.heapUsed), 0)),
          workers: workers.length,
          workers_heap_mb: MB(workers.reduce((n, s) => n + s.heapUsed, 0)),
          external_mb: MB(list.reduce((n, s) => n + (s.external ?? 0), 0)),
        };
      })
  );
}

type MemoryRow = ReturnType<typeof memoryRows>[number];

/**
 * The drift, as the issue that asked for this benchmark defines it (the last minute against the second;
 * the RSS from the second sample to the last), and the trend, which one noisy minute or sample does not
 * decide: the median p50 of the last three minutes against minutes 1-3, and the RSS from the end of the
 * first minute on, as growth and as a least-squares slope.
 */
function driftOf(minutes: MinuteRow[], memory: MemoryRow[]) {
  const second = minutes[1] ?? minutes[0]!;
  const last = minutes[minutes.length - 1]!;
  const trend = (p50: (m: MinuteRow) => number) =>
    round1(median(minutes.slice(-3).map(p50)) / median(minutes.slice(1, 4).map(p50))) || 0;
  const rss = memory.map((m) => m.rss_mb);
  const afterWarmUp = memory.filter((m) => m.at_s >= 60);
  const growth = (from: number | undefined, to: number | undefined) =>
    from && to ? round1(((to - from) / from) * 100) : 0;
  return {
    quotes_p50: round1(last.quotes_p50_ms / second.quotes_p50_ms) || 0,
    orders_p50: round1(last.orders_p50_ms / second.orders_p50_ms) || 0,
    rss_growth_pct: rss.length > 2 ? growth(rss[1], rss[rss.length - 1]) : 0,
    quotes_p50_trend: trend((m) => m.quotes_p50_ms),
    orders_p50_trend: trend((m) => m.orders_p50_ms),
    rss_after_warmup_pct: growth(afterWarmUp[0]?.rss_mb, afterWarmUp[afterWarmUp.length - 1]?.rss_mb),
    rss_slope_mb_per_min: round1(slope(afterWarmUp.map((m) => ({ x: m.at_s / 60, y: m.rss_mb })))) || 0,
  };
}

async function main(): Promise<void> {
  const brokers = brokersOf().split(',');
  const kafka = new Kafka({ clientId: 'soak', brokers, logLevel: logLevel.NOTHING });
  const prefix = `soak-${Date.now().toString(36)}-`;
  const declared = TOPICS.map((t) => ({ topic: `${prefix}${t.name}`, numPartitions: t.partitions }));
  await withAdmin(kafka, (admin) => createTopics(admin, declared));
  let offline: OfflineProcess | undefined;
  const answers: Answer[] = [];
  try {
    offline = await startOffline({
      cwd: ROOT,
      env: {
        KAFKA_TOPIC_PREFIX: prefix,
        LOG_LEVEL: 'warn',
      },
      nodeArgs: ['--require', resolve(__dirname, 'lib', 'memory-probe.cjs')],
      readyPattern: /kafka: ready: /,
      timeoutMs: 180_000,
    });
    say(`serverless offline (pid ${offline.pid}) ready; ${CONCURRENCY} callers for ${MINUTES} minute(s)`);
    const calls = { quotes: postQuote(`${offline.url}/quotes`), orders: postOrder(`${offline.url}/orders`) };
    const started = Date.now();
    const until = started + MINUTES * 60_000;
    let n = 0;
    let lastMinute = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, caller) => {
        const route: Route = caller % 2 ? 'orders' : 'quotes';
        while (Date.now() < until) {
          const i = n++;
          const t0 = performance.now();
          const outcome = await calls[route](i, 'soak').catch(() => 'error' as const);
          answers.push({ at: Date.now(), route, ms: performance.now() - t0, outcome });
          const minute = Math.floor((Date.now() - started) / 60_000);
          if (minute > lastMinute) {
            lastMinute = minute;
            say(`minute ${minute - 1} done: ${answers.length} answers so far`);
          }
        }
      }),
    );
    const minutes = perMinute(answers, started);
    const samples = readFileSync(memoryProbeFile(offline.pid), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as MemorySample)
      .filter((s) => s.at >= started - SAMPLE_MS);
    const memory = memoryRows(samples, started);
    const drift = driftOf(minutes, memory);
    console.log('| minute | requests | quotes p50 | quotes p99 | orders p50 | orders p99 | errors | mismatches |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const m of minutes) {
      console.log(
        `| ${m.minute} | ${m.requests} | ${m.quotes_p50_ms} ms | ${m.quotes_p99_ms} ms | ${m.orders_p50_ms} ms | ${m.orders_p99_ms} ms | ${m.errors} | ${m.mismatches} |`,
      );
    }
    console.log('\n| at | RSS | main thread heap | worker threads | their heaps | external, all threads |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const m of memory) {
      console.log(
        `| ${m.at_s} s | ${m.rss_mb} MB | ${m.main_heap_mb} MB | ${m.workers} | ${m.workers_heap_mb} MB | ${m.external_mb} MB |`,
      );
    }
    console.log(
      `\ndrift, last minute vs second: quotes p50 ${drift.quotes_p50}x, orders p50 ${drift.orders_p50}x; ` +
        `RSS from the second sample to the last ${drift.rss_growth_pct} %`,
    );
    console.log(
      `trend after the first minute: p50 of the last three minutes vs minutes 1-3: quotes ${drift.quotes_p50_trend}x, ` +
        `orders ${drift.orders_p50_trend}x; RSS ${drift.rss_after_warmup_pct} % from ${(SAMPLE_MS * 2) / 1000} s to the last ` +
        `sample, least-squares slope ${drift.rss_slope_mb_per_min} MB/min`,
    );
    if (args.json) console.log(JSON.stringify({ minutes, memory, drift }));
  } finally {
    await offline?.stop();
    await deleteTopics(
      kafka,
      declared.map((t) => t.topic),
    );
    if (offline) rmSync(memoryProbeFile(offline.pid), { force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
