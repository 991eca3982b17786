/**
 * npm run bench:rpc [-- --requests 1000 --json]
 *
 * Request-reply latency through HTTP: POST /quotes on `serverless offline` → quote-requests → the local
 * event source → price-quote → quote-replies → the reply listener → HTTP answer, at concurrency 1, 16
 * and 64, against the real broker. In the same run, on the same broker, the floor: a raw kafkajs
 * request→reply round trip (one producer, a plain consumer that answers each request, a plain consumer
 * that reads the replies) with no HTTP, no Lambda runtime and no event source.
 *
 * - The first request of a cold `quote` container (worker start + reply listener positioning) is
 *   measured and reported on its own.
 * - Each concurrency level is warmed up first (serverless offline starts one worker, i.e. one
 *   "container", per concurrent request, as Lambda does), then measured.
 * - Every answer is checked against its request: `mismatches` counts answers that belong to another
 *   request, `errors` anything that is not a 200.
 * With --json the last line is one JSON object (the figures for concurrency 16 at the top level).
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createTopics } from 'kafkajs-resilience';
import { brokersOf } from '../broker/address';
import { TOPICS } from '../lib/kafka/topics';
import { startOffline, type OfflineProcess } from '../test/helpers/offline';
import { postQuote } from './lib/http';
import { deleteTopics, startKafkaFloor, withAdmin } from './lib/kafka';
import { drive, round1 as round, type Latency, type Outcome } from './lib/stats';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    levels: { type: 'string', default: '1,16,64' },
    json: { type: 'boolean', default: false },
  },
});
const REQUESTS = Number(args.requests);
const LEVELS = args.levels.split(',').map(Number);
const BROKERS = brokersOf().split(',');
const kafka = new Kafka({ clientId: 'bench-rpc', brokers: BROKERS, logLevel: logLevel.NOTHING });
const say = (line: string) => console.error(line);

type Level = Latency & { concurrency: number };

async function main(): Promise<void> {
  const prefix = `bench-rpc-${Date.now().toString(36)}-`;
  const declared = TOPICS.map((t) => ({ topic: `${prefix}${t.name}`, numPartitions: t.partitions }));
  say(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map(round).join(' ')}`);
  await withAdmin(kafka, (admin) => createTopics(admin, declared));
  let offline: OfflineProcess | undefined;
  let floor: Awaited<ReturnType<typeof startKafkaFloor>> | undefined;
  try {
    say('starting serverless offline (quote + price-quote through the local event source)');
    offline = await startOffline({
      env: { KAFKA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'error', REPLY_TIMEOUT_MS: '9000' },
      readyPattern: /kafka: ready: /,
      timeoutMs: 180_000,
    });
    const http = postQuote(`${offline.url}/quotes`);

    const coldStart = performance.now();
    const coldOutcome = await http(0, 'cold');
    const coldMs = round(performance.now() - coldStart);
    say(`first request of a cold quote container: ${coldMs} ms (${coldOutcome})`);

    floor = await startKafkaFloor(kafka, prefix);
    const floorCall = async (i: number): Promise<Outcome> => {
      const productId = `floor-${i}`;
      const answer = JSON.parse(await floor!.call({ productId, quantity: 1 })) as { productId: string };
      return answer.productId === productId ? 'ok' : 'mismatch';
    };

    const results: { http: Level; floor: Level; warmupErrors: number }[] = [];
    for (const concurrency of LEVELS) {
      const count = concurrency === 1 ? Math.min(REQUESTS, 300) : REQUESTS;
      // warm-up: serverless offline starts a worker per concurrent request (Lambda's containers)
      const warm = await drive(concurrency * 4, concurrency, (i) => http(i, `warm${concurrency}`));
      await drive(Math.min(count, 200), concurrency, floorCall);
      const floorLevel: Level = { concurrency, ...(await drive(count, concurrency, floorCall)) };
      const httpLevel: Level = { concurrency, ...(await drive(count, concurrency, (i) => http(i, `c${concurrency}`))) };
      results.push({ http: httpLevel, floor: floorLevel, warmupErrors: warm.errors + warm.mismatches });
      say(
        `concurrency ${String(concurrency).padStart(2)}: HTTP p50 ${httpLevel.p50_ms} p95 ${httpLevel.p95_ms} p99 ${httpLevel.p99_ms} ms, ` +
          `${httpLevel.rps} req/s, errors ${httpLevel.errors}, mismatches ${httpLevel.mismatches} | ` +
          `floor p50 ${floorLevel.p50_ms} p99 ${floorLevel.p99_ms} ms, ${floorLevel.rps} req/s` +
          (warm.errors ? ` (warm-up errors: ${warm.errors})` : ''),
      );
    }
    const c16 = results.find((r) => r.http.concurrency === 16) ?? results[0]!;
    const summary = {
      ...c16.http,
      floor_p50_ms: c16.floor.p50_ms,
      floor_p99_ms: c16.floor.p99_ms,
      floor_rps: c16.floor.rps,
      cold_first_request_ms: coldMs,
      cold_first_request_ok: coldOutcome === 'ok',
      levels: results.map((r) => ({
        ...r.http,
        floor_p50_ms: r.floor.p50_ms,
        floor_p99_ms: r.floor.p99_ms,
        warmup_errors: r.warmupErrors,
      })),
      machine: { cores: cpus().length, loadavg_after: loadavg().map(round) },
    };
    if (args.json) console.log(JSON.stringify(summary));
    else console.log(summary);
  } finally {
    await floor?.stop().catch(() => undefined);
    await offline?.stop();
    await deleteTopics(
      kafka,
      declared.map((t) => t.topic),
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
