/**
 * The arithmetic and the JSON shape `npm run bench` reports with (bench/lib): a script comparing two
 * runs reads exactly these fields.
 */
import { Delivery, indexedValue, indexOf } from '../../bench/lib/kafka';
import { readsPerReply, renderTables, type BenchReport } from '../../bench/lib/report';
import { median, percentile, slope, summarize, drive } from '../../bench/lib/stats';

describe('slope', () => {
  it('is the least-squares trend: 0 for a flat series however noisy its ends, NaN without two x', () => {
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 1 })))).toBeCloseTo(2);
    expect(
      slope([
        { x: 0, y: 5 },
        { x: 1, y: 3 },
        { x: 2, y: 3 },
        { x: 3, y: 5 },
      ]),
    ).toBeCloseTo(0);
    expect(slope([{ x: 1, y: 1 }])).toBeNaN();
    expect(
      slope([
        { x: 1, y: 1 },
        { x: 1, y: 2 },
      ]),
    ).toBeNaN();
  });
});

describe('percentile and median', () => {
  it('uses the nearest rank: p50 of 1..10 is 5, p99 is 10, p90 of 1..10 is 9', () => {
    const sorted = Array.from({ length: 10 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99), percentile(sorted, 100)]).toEqual([
      5, 9, 10, 10,
    ]);
    expect(percentile([7], 1)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('takes the middle value, or the mean of the two middle values, whatever the order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('summarizes a level: percentiles of the good answers, every request counted in req/s', () => {
    const level = summarize([30, 10, 20, 40], 1, 1, 2);
    expect(level).toEqual({ requests: 6, p50_ms: 20, p95_ms: 40, p99_ms: 40, rps: 3, errors: 1, mismatches: 1 });
  });

  it('drives a closed loop: every call once, a rejected call counted as an error', async () => {
    const seen: number[] = [];
    const level = await drive(20, 4, async (i) => {
      seen.push(i);
      if (i === 3) throw new Error('boom');
      return i === 5 ? 'mismatch' : 'ok';
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect([level.requests, level.errors, level.mismatches]).toEqual([20, 1, 1]);
  });
});

describe('counting what an event source delivered', () => {
  it('reads the index back from a record of any size', () => {
    expect(indexOf(indexedValue(12345, 1024))).toBe(12345);
    expect(indexedValue(7, 1024).length).toBe(1024);
  });

  it('counts lost and duplicated records by index', () => {
    const delivery = new Delivery(5);
    for (const i of [0, 1, 1, 3, 4, 4, 4]) delivery.add(i);
    expect([delivery.unique, delivery.lost, delivery.duplicates, delivery.complete]).toEqual([4, 1, 3, false]);
    expect(() => delivery.add(5)).toThrow(/not produced/);
  });

  it('reads per reply: every container on a partition reads each reply written there', () => {
    // 100 replies on partition 0 read by 2 containers, 100 on partition 1 by 1: 300 reads for 200 replies
    expect(
      readsPerReply(
        new Map([
          [0, 100],
          [1, 100],
          [2, 0],
        ]),
        new Map([
          [0, 2],
          [1, 1],
        ]),
      ),
    ).toBe(1.5);
    expect(readsPerReply(new Map(), new Map())).toBeNaN();
  });
});

describe('the report', () => {
  const latency = (p50: number) => ({
    requests: 10,
    p50_ms: p50,
    p95_ms: p50 * 2,
    p99_ms: p50 * 3,
    rps: 100,
    errors: 0,
    mismatches: 0,
  });
  const levels = (p50: number) => ({ c1: latency(p50 / 4), c16: latency(p50) });
  const throughput = (rps: number) => ({ rps, from_start_rps: rps / 2, lost: 0, duplicates: 0 });
  const report: BenchReport = {
    default: 'worker',
    rpc: {
      worker: levels(40),
      in_process: levels(30),
      floor_kafka: levels(10),
      floor_http: levels(10),
      reads_per_reply: 1.2,
      reads_per_reply_by_mode: { worker: 1.2, in_process: 1 },
      containers_by_mode: { worker: 16, in_process: 16 },
    },
    throughput: { worker: throughput(60), in_process: throughput(90), kafkajs: throughput(300), peer: throughput(70) },
    setup: {
      requests_c16: 1000,
      requests_c1: 300,
      records: 20000,
      record_bytes: 1024,
      partitions: 6,
      batch_size: 100,
      rounds: 3,
      peer: '@gabrielgollo/serverless-offline-kafka 1.0.5',
      machine: '2 cores',
      node: 'v20',
      seconds: 1,
    },
  };

  it('has the fields a comparing script reads', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read back as a comparing script would, untyped
    const parsed = JSON.parse(JSON.stringify(report)) as Record<string, any>;
    expect(['worker', 'in_process']).toContain(parsed.default);
    for (const key of ['worker', 'in_process', 'floor_kafka', 'floor_http']) {
      for (const level of ['c1', 'c16']) {
        expect(Object.keys(parsed.rpc[key][level])).toEqual(
          expect.arrayContaining(['p50_ms', 'p99_ms', 'rps', 'errors', 'mismatches']),
        );
      }
    }
    expect(typeof parsed.rpc.reads_per_reply).toBe('number');
    for (const key of ['worker', 'in_process', 'kafkajs', 'peer']) {
      expect(Object.keys(parsed.throughput[key])).toEqual(expect.arrayContaining(['rps', 'lost', 'duplicates']));
    }
  });

  it('renders both tables with the ratios to the floors, to kafkajs and to the peer', () => {
    const text = renderTables(report);
    // worker c16 p50 40 ms against floors 10 + 10 ms
    expect(text).toMatch(/this project, HTTP worker threads \(default\) .*\| 2\.00x /);
    // in-process 90 records/s: 0.30x kafkajs, 1.29x the peer
    expect(text).toMatch(/this project, handler in-process +\| 90 .*\| 0\.30x +\| 1\.29x /);
    expect(text).toContain('Reads per reply: 1.2 (worker threads, 16 containers)');
  });
});
