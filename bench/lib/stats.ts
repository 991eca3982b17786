/**
 * The arithmetic every benchmark of this repository reports with: percentiles (nearest rank), medians,
 * rounding, and a closed-loop load driver. Pure, so test/unit/bench.test.ts checks it.
 */

/** The p-th percentile of ascending `sorted` values, nearest-rank method; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median (the mean of the two middle values for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round1 = (n: number) => Math.round(n * 10) / 10;

/** The least-squares slope of y over x (NaN for fewer than two distinct x): how fast a series trends. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  return n < 2 || sxx === 0 ? NaN : sxy / sxx;
}
export const round2 = (n: number) => Math.round(n * 100) / 100;

/** What a load level measured: latency percentiles of the good answers, throughput, bad answers. */
export interface Latency {
  requests: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  rps: number;
  /** answers that were not a success (status, timeout, transport error) */
  errors: number;
  /** answers that belong to another request: the one outcome that must never happen */
  mismatches: number;
}

export type Outcome = 'ok' | 'error' | 'mismatch';

/** Summarise one level: `latencies` of the good answers in ms, the bad ones counted, over `seconds`. */
export function summarize(latencies: number[], errors: number, mismatches: number, seconds: number): Latency {
  const sorted = [...latencies].sort((a, b) => a - b);
  const requests = latencies.length + errors + mismatches;
  return {
    requests,
    p50_ms: round1(percentile(sorted, 50)),
    p95_ms: round1(percentile(sorted, 95)),
    p99_ms: round1(percentile(sorted, 99)),
    rps: round1(requests / seconds),
    errors,
    mismatches,
  };
}

/** Run `count` calls of `task` with `concurrency` in flight (closed loop); a rejected call is an error. */
export async function drive(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<Outcome>,
): Promise<Latency> {
  const latencies: number[] = [];
  let errors = 0;
  let mismatches = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        const outcome = await task(i).catch(() => 'error' as const);
        if (outcome === 'ok') latencies.push(performance.now() - t0);
        else if (outcome === 'mismatch') mismatches += 1;
        else errors += 1;
      }
    }),
  );
  return summarize(latencies, errors, mismatches, (performance.now() - started) / 1000);
}
