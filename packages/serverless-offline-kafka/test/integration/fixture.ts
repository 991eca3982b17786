import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Message } from 'kafkajs';
import { testKafka, uniqueName, waitFor, withAdmin } from '../helpers/kafka';
import { startOffline, type OfflineProcess } from '../helpers/offline';

/** The fixture services (one serverless config per test file) live here; osls runs them from this directory. */
export const FIXTURE_DIR = resolve(__dirname, '..', 'fixtures');

export interface ReportedRecord {
  topic: string;
  partition: number;
  offset: number;
  id?: string;
  attempt: number;
}

/** One line the fixture handler wrote: the start or the end of an invocation. */
export interface ReportEntry {
  fn: string;
  at: number;
  version: string;
  /** the handler's thread: 0 in serverless offline's own process, a worker thread's id otherwise */
  thread: number;
  phase: 'start' | 'end';
  outcome?: 'ok' | 'error' | 'partial';
  size?: number;
  records: ReportedRecord[];
  event?: unknown;
}

/** A report file in a fresh temporary directory, and a reader for it. */
export function createReport(): { file: string; entries(fn?: string): ReportEntry[]; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'event-source-'));
  const file = join(dir, 'report.jsonl');
  return {
    file,
    entries(fn?: string) {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((line) => line.trim().length > 0)
        .map((line) => JSON.parse(line) as ReportEntry)
        .filter((e) => fn === undefined || e.fn === fn);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Invocations of `fn` that started, each with its records. */
export function starts(entries: ReportEntry[], fn: string): ReportEntry[] {
  return entries.filter((e) => e.fn === fn && e.phase === 'start');
}

/** Record ids that a successful (or partially successful) invocation of `fn` finished. */
export function finishedIds(entries: ReportEntry[], fn: string): Set<string> {
  return new Set(
    entries
      .filter((e) => e.fn === fn && e.phase === 'end' && e.outcome === 'ok')
      .flatMap((e) => e.records.map((r) => r.id).filter((id): id is string => id !== undefined)),
  );
}

/** `serverless offline start` for a fixture config, waiting for the event source's "ready" line. */
export function startFixture(
  config: string,
  env: Record<string, string>,
  timeoutMs = 90_000,
  args: string[] = [],
): Promise<OfflineProcess> {
  return startOffline({ cwd: FIXTURE_DIR, config, env, readyPattern: /kafka: ready: /, timeoutMs, args });
}

export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = testKafka('event-source-test').producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

/** JSON instructions for the fixture handler (see test/fixtures/handlers/probe.ts). */
export function instructions(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id, ...extra });
}

/** The committed offset of each partition of `topic` for `groupId` ('-1' = none). */
export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
  const [result] = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  return new Map((result?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

/** Wait until `groupId` has committed `offset` (the next offset to read) on partition 0 of `topic`. */
export function waitForCommit(groupId: string, topic: string, offset: string, what: string, timeoutMs = 30_000) {
  return waitFor(async () => (await committedOffsets(groupId, topic)).get(0) === offset, { timeoutMs, what });
}

/** Fresh names for every topic errors.yml reads (`tag` tells the test files apart in the broker). */
const ERRORS_TOPICS = [
  'RETRY',
  'LIMITED',
  'AGED',
  'BISECT',
  'PARTIAL',
  'TIMEOUT',
  'DLQ_LIMITED',
  'DLQ_AGED',
  'DLQ_BISECT',
] as const;
export function errorsTopics(tag: string): Record<`TOPIC_${(typeof ERRORS_TOPICS)[number]}`, string> {
  return Object.fromEntries(
    ERRORS_TOPICS.map((n) => [`TOPIC_${n}`, uniqueName(`${tag}-${n.toLowerCase().replace('_', '-')}`)]),
  ) as Record<`TOPIC_${(typeof ERRORS_TOPICS)[number]}`, string>;
}

/** Wait until errors.yml's function `fn` has committed `offset` on its `topic`. */
export const waitForErrorsCommit = (fn: string, topic: string, offset: string, timeoutMs = 30_000) =>
  waitForCommit(`es-errors-local-${fn}-${topic}`, topic, offset, `${fn} to commit offset ${offset}`, timeoutMs);
