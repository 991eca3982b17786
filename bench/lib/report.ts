/**
 * The shape `npm run bench -- --json` prints on its last line, and its tables. Pure, so its shape is
 * checked by test/unit/bench.test.ts; bench/all.ts fills it.
 */
import { round2, type Latency } from './stats';

export type Mode = 'worker' | 'in_process';
export const MODES: readonly Mode[] = ['worker', 'in_process'];
export const MODE_LABEL: Record<Mode, string> = { worker: 'worker threads', in_process: 'in-process' };
/** The fixture services set no mode: the command line's `--useInProcess` picks it (HTTP and Kafka alike). */
export const MODE_ARGS: Record<Mode, string[]> = { worker: [], in_process: ['--useInProcess'] };

/** One request-reply contestant at concurrency 1 and 16. */
export interface RpcLevels {
  c1: Latency;
  c16: Latency;
}

/** One event-source contestant: records/s steady and from process start, and what it got wrong. */
export interface Throughput {
  /** records/s from the end of the first delivered batch to the last (median of the rounds) */
  rps: number;
  /** records/s from the moment the process (or the consumer) was started (median of the rounds) */
  from_start_rps: number;
  /** records never delivered, over all rounds */
  lost: number;
  /** records delivered more than once, over all rounds */
  duplicates: number;
}

export interface BenchReport {
  default: Mode;
  rpc: Record<Mode, RpcLevels> & {
    floor_kafka: RpcLevels;
    floor_http: RpcLevels;
    /** how many containers read each reply, on average (default mode) */
    reads_per_reply: number;
    reads_per_reply_by_mode: Record<Mode, number>;
    containers_by_mode: Record<Mode, number>;
  };
  throughput: Record<Mode, Throughput> & { kafkajs: Throughput; peer: Throughput };
  setup: {
    requests_c16: number;
    requests_c1: number;
    records: number;
    record_bytes: number;
    partitions: number;
    batch_size: number;
    rounds: number;
    peer: string;
    machine: string;
    node: string;
    seconds: number;
  };
}

/**
 * Reads per reply: every container whose reply listener holds a partition reads every reply written to
 * it. `replies` per partition, `listeners` per partition (containers holding it).
 */
export function readsPerReply(replies: ReadonlyMap<number, number>, listeners: ReadonlyMap<number, number>): number {
  let written = 0;
  let read = 0;
  for (const [partition, count] of replies) {
    written += count;
    read += count * (listeners.get(partition) ?? 0);
  }
  return written === 0 ? NaN : round2(read / written);
}

const ms = (n: number) => (Number.isFinite(n) ? `${n} ms` : '-');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}x` : '-');
const count = (n: number) => Math.round(n).toLocaleString('en-US');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The two tables (markdown) of a report. */
export function renderTables(report: BenchReport): string {
  const { rpc, throughput, setup } = report;
  const floorSum = (level: 'c1' | 'c16') => rpc.floor_kafka[level].p50_ms + rpc.floor_http[level].p50_ms;
  const rpcRow = (label: string, r: RpcLevels, vsFloors: boolean): string[] => [
    label,
    ms(r.c1.p50_ms),
    ms(r.c1.p99_ms),
    String(r.c1.rps),
    ms(r.c16.p50_ms),
    ms(r.c16.p99_ms),
    String(r.c16.rps),
    vsFloors ? ratio(r.c16.p50_ms, floorSum('c16')) : '',
    `${r.c1.errors + r.c16.errors}`,
    `${r.c1.mismatches + r.c16.mismatches}`,
  ];
  const rpcTable = table(
    [
      'POST /quotes',
      'c1 p50',
      'c1 p99',
      'c1 req/s',
      'c16 p50',
      'c16 p99',
      'c16 req/s',
      'c16 p50 vs floors',
      'errors',
      'mismatches',
    ],
    [
      ...MODES.map((m) =>
        rpcRow(`this project, HTTP ${MODE_LABEL[m]}${m === report.default ? ' (default)' : ''}`, rpc[m], true),
      ),
      rpcRow('floor: raw kafkajs round trip', rpc.floor_kafka, false),
      rpcRow('floor: serverless offline, no-op HTTP function', rpc.floor_http, false),
    ],
  );
  const tpRow = (label: string, t: Throughput): string[] => [
    label,
    count(t.rps),
    count(t.from_start_rps),
    ratio(t.rps, throughput.kafkajs.rps),
    ratio(t.rps, throughput.peer.rps),
    String(t.lost),
    String(t.duplicates),
  ];
  const tpTable = table(
    ['event source', 'records/s', 'from process start', 'vs kafkajs', 'vs peer', 'lost', 'duplicated'],
    [
      ...MODES.map((m) => tpRow(`this project, handler ${MODE_LABEL[m]}`, throughput[m])),
      tpRow(`${setup.peer} (npm peer)`, throughput.peer),
      tpRow('plain kafkajs eachBatch', throughput.kafkajs),
    ],
  );
  return [
    `Request-reply: ${setup.requests_c1} requests at concurrency 1, ${setup.requests_c16} at 16, after a warm-up; ` +
      `HTTP functions in worker threads or in-process, the Kafka-triggered responder in worker threads in both; ` +
      `"vs floors" is p50 / (raw kafkajs p50 + no-op HTTP p50, the HTTP floor in the default mode). Reads per reply: ` +
      MODES.map(
        (m) => `${rpc.reads_per_reply_by_mode[m]} (${MODE_LABEL[m]}, ${rpc.containers_by_mode[m]} containers)`,
      ).join(', ') +
      '.',
    '',
    rpcTable,
    '',
    `Event source: ${count(setup.records)} records of ${setup.record_bytes} bytes on ${setup.partitions} partitions, ` +
      `batchSize ${setup.batch_size}, the same no-op handler; median of ${setup.rounds} rounds, lost and duplicated summed over them.`,
    '',
    tpTable,
  ].join('\n');
}
