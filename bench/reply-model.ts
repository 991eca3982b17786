/**
 * npm run bench:replies [-- --trials 2000 --json]
 *
 * The reply listeners' cost on AWS, simulated: C warm `quote` containers each take one of the P
 * partitions of the reply topic at random (lib/request-reply/reply-listener.ts); every reply is written
 * to its requester's partition and read by every container holding that partition. For each C and P,
 * over --trials random draws, with every container sending the same number of requests:
 * - reads per reply (mean; each container on a partition reads all of its replies, keeps its own);
 * - containers that share their partition with another (mean share);
 * - the most containers on one partition (mean and 99th percentile over the draws).
 * No broker needed. docs/request-reply.md ("At AWS scale") holds the table and the fetch-rate model.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { readsPerReply } from './lib/report';
import { percentile, round2 } from './lib/stats';

const { values: args } = parseArgs({
  options: { trials: { type: 'string', default: '2000' }, json: { type: 'boolean', default: false } },
});
const TRIALS = Number(args.trials);
const CONTAINERS = [1, 10, 50, 100, 200, 500, 1000];
const PARTITIONS = [12, 50, 100, 250];

interface Row {
  containers: number;
  partitions: number;
  reads_per_reply: number;
  expected_reads_per_reply: number;
  sharing: number;
  max_per_partition_mean: number;
  max_per_partition_p99: number;
}

function simulate(containers: number, partitions: number): Row {
  const reads: number[] = [];
  const sharing: number[] = [];
  const maxima: number[] = [];
  for (let t = 0; t < TRIALS; t += 1) {
    const listeners = new Map<number, number>();
    for (let c = 0; c < containers; c += 1) {
      const p = randomInt(partitions);
      listeners.set(p, (listeners.get(p) ?? 0) + 1);
    }
    // equal load: each container's replies (say 1) land on its own partition
    reads.push(readsPerReply(listeners, listeners));
    let shared = 0;
    for (const n of listeners.values()) if (n > 1) shared += n;
    sharing.push(shared / containers);
    maxima.push(Math.max(...listeners.values()));
  }
  maxima.sort((a, b) => a - b);
  return {
    containers,
    partitions,
    reads_per_reply: round2(reads.reduce((a, b) => a + b, 0) / TRIALS),
    // a container's replies are read by itself and by each other container that drew the same partition
    expected_reads_per_reply: round2(1 + (containers - 1) / partitions),
    sharing: round2(sharing.reduce((a, b) => a + b, 0) / TRIALS),
    max_per_partition_mean: round2(maxima.reduce((a, b) => a + b, 0) / TRIALS),
    max_per_partition_p99: percentile(maxima, 99),
  };
}

const rows = PARTITIONS.flatMap((p) => CONTAINERS.map((c) => simulate(c, p)));
const header = [
  'partitions',
  'containers',
  'reads per reply',
  '1 + (C-1)/P',
  'containers sharing',
  'most on one partition (mean / p99)',
];
const cells = rows.map((r) => [
  String(r.partitions),
  String(r.containers),
  String(r.reads_per_reply),
  String(r.expected_reads_per_reply),
  `${Math.round(r.sharing * 100)}%`,
  `${r.max_per_partition_mean} / ${r.max_per_partition_p99}`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n'));
console.log(`(${TRIALS} random draws per row)`);
if (args.json) console.log(JSON.stringify({ trials: TRIALS, rows }));
