import { consumeRecords, createTopic, deleteTopics } from '../helpers/kafka';
import type { OfflineProcess } from '../helpers/offline';
import {
  createReport,
  instructions,
  produce,
  errorsTopics,
  waitForErrorsCommit,
  startFixture,
  starts,
  type ReportEntry,
} from './fixture';

/**
 * The same event source with the handlers in serverless offline's process (`--useInProcess`, which the
 * plugin follows unless its own `useInProcess` says otherwise) instead of worker threads: a
 * representative set of errors.test.ts — a failing batch retried whole and in order then committed, a
 * partial batch response, retries exhausted into the Kafka destination.
 */
const topics = errorsTopics('ip');
const report = createReport();
let offline: OfflineProcess;

beforeAll(async () => {
  for (const topic of Object.values(topics)) await createTopic(topic, 1);
  offline = await startFixture('errors.yml', { ...topics, REPORT_FILE: report.file }, 90_000, ['--useInProcess']);
}, 150_000);

afterAll(async () => {
  await offline?.stop();
  await deleteTopics(Object.values(topics));
  report.cleanup();
});

const ids = (e: ReportEntry) => e.records.map((r) => r.id);

it('a failing batch is retried, whole and in order, until it succeeds; only then committed', async () => {
  await produce(topics.TOPIC_RETRY, [
    { value: instructions('r1', { failTimes: 2 }) },
    { value: instructions('r2') },
    { value: instructions('r3') },
  ]);
  await waitForErrorsCommit('retryForever', topics.TOPIC_RETRY, '3', 60_000);
  expect(starts(report.entries(), 'retryForever').map(ids)).toEqual([
    ['r1', 'r2', 'r3'],
    ['r1', 'r2', 'r3'],
    ['r1', 'r2', 'r3'],
  ]);
  expect(offline.output()).toMatch(/kafka: retryForever \S+ offsets 0\.\.2 \(3 records\) attempt 3 \d+ ms ok/);
  // in serverless offline's own thread, not a worker thread
  expect(new Set(report.entries('retryForever').map((e) => e.thread))).toEqual(new Set([0]));
});

it('a partial batch response commits up to the lowest failed record and delivers again from it', async () => {
  await produce(topics.TOPIC_PARTIAL, [
    { value: instructions('p1') },
    { value: instructions('p2', { partialTimes: 1 }) },
    { value: instructions('p3') },
  ]);
  await waitForErrorsCommit('partial', topics.TOPIC_PARTIAL, '3', 60_000);
  expect(starts(report.entries(), 'partial').map(ids).slice(0, 2)).toEqual([
    ['p1', 'p2', 'p3'],
    ['p2', 'p3'],
  ]);
});

it('after maximumRetryAttempts the record goes to the Kafka destination, and the partition moves on', async () => {
  await produce(topics.TOPIC_LIMITED, [{ value: instructions('x1', { fail: true }) }, { value: instructions('x2') }]);
  const [failure] = await consumeRecords(topics.TOPIC_DLQ_LIMITED, 1, { timeoutMs: 60_000 });
  expect(JSON.parse(failure!.value!.toString()).requestContext).toMatchObject({
    condition: 'RetriesExhausted',
    approximateInvokeCount: 2,
  });
  await waitForErrorsCommit('limited', topics.TOPIC_LIMITED, '2', 60_000);
});
