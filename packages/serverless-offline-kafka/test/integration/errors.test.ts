import { BROKERS, consumeRecords, createTopic, deleteTopics, waitFor } from '../helpers/kafka';
import type { OfflineProcess } from '../helpers/offline';
import {
  createReport,
  finishedIds,
  instructions,
  produce,
  errorsTopics,
  waitForErrorsCommit,
  startFixture,
  starts,
  type ReportEntry,
} from './fixture';

/**
 * The event source fails like AWS: errors and timeouts are retried, the AWS retry controls
 * (maximumRetryAttempts, maximumRecordAgeInSeconds, bisectBatchOnFunctionError,
 * ReportBatchItemFailures) and the Kafka on-failure destination work as on AWS, and nothing is lost.
 */
const topics = errorsTopics('es');
const report = createReport();
let offline: OfflineProcess;

beforeAll(async () => {
  for (const topic of Object.values(topics)) await createTopic(topic, 1);
  offline = await startFixture('errors.yml', { ...topics, REPORT_FILE: report.file });
}, 150_000);

afterAll(async () => {
  await offline?.stop();
  await deleteTopics(Object.values(topics));
  report.cleanup();
});

const ids = (e: ReportEntry) => e.records.map((r) => r.id);
const waitForFinished = (fn: string, wanted: string[]) =>
  waitFor(() => wanted.every((id) => finishedIds(report.entries(), fn).has(id)), {
    timeoutMs: 60_000,
    what: `${fn} to finish ${wanted.join(', ')}`,
  });

it('a failing batch is retried, whole and in order, until it succeeds; then it is committed', async () => {
  await produce(topics.TOPIC_RETRY, [{ value: instructions('r1', { failTimes: 2 }) }, { value: instructions('r2') }]);
  await waitForFinished('retryForever', ['r1', 'r2']);
  const invocations = starts(report.entries(), 'retryForever');
  expect(invocations.map(ids)).toEqual([
    ['r1', 'r2'],
    ['r1', 'r2'],
    ['r1', 'r2'],
  ]);
  await waitForErrorsCommit('retryForever', topics.TOPIC_RETRY, '2');
  expect(offline.output()).toMatch(/kafka: retryForever \S+ offsets 0\.\.1 \(2 records\) attempt 3 \d+ ms ok/);
  // in a worker thread (serverless-offline's default), never serverless offline's own thread (0)
  expect(report.entries('retryForever').filter((e) => e.thread === 0)).toEqual([]);
});

it('a timeout is retried like an error, in a fresh worker', async () => {
  await produce(topics.TOPIC_TIMEOUT, [{ value: instructions('t1', { sleepMs: 8000, sleepTimes: 1 }) }]);
  await waitForFinished('timesOut', ['t1']);
  expect(starts(report.entries(), 'timesOut').map((e) => e.records[0]!.attempt)).toEqual([1, 2]);
  expect(offline.output()).toMatch(/kafka: timesOut \S+ offset 0 \(1 records\) attempt 1 \d+ ms error: timeout/);
  await waitForErrorsCommit('timesOut', topics.TOPIC_TIMEOUT, '1');
});

it('after maximumRetryAttempts the record goes to the Kafka destination in AWS failure-record format', async () => {
  await produce(topics.TOPIC_LIMITED, [
    { key: 'bad-key', value: instructions('x1', { fail: true }) },
    { value: instructions('x2') },
  ]);
  const [failure] = await consumeRecords(topics.TOPIC_DLQ_LIMITED, 1, { timeoutMs: 60_000 });
  expect(failure!.key?.toString()).toBe('bad-key');
  const body = JSON.parse(failure!.value!.toString());
  expect(body).toMatchObject({
    version: '1.0',
    requestContext: {
      condition: 'RetriesExhausted',
      approximateInvokeCount: 2,
      functionArn: expect.stringContaining(':function:es-errors-local-limited'),
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    KafkaBatchInfo: {
      batchSize: 2,
      bootstrapServers: BROKERS.join(','),
      eventSourceArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/local-cluster/abcd-1234',
      recordInfo: { offset: '0' },
    },
    payload: { eventSource: 'aws:kafka' },
  });
  expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
  const [record] = body.payload.records[`${topics.TOPIC_LIMITED}-0`];
  expect(JSON.parse(Buffer.from(record.value, 'base64').toString())).toEqual({ id: 'x1', fail: true });
  // one invocation plus one retry, then the partition moves on
  expect(starts(report.entries(), 'limited').length).toBe(2);
  await waitForErrorsCommit('limited', topics.TOPIC_LIMITED, '2');
});

it('records older than maximumRecordAgeInSeconds go to the destination without being invoked', async () => {
  await produce(topics.TOPIC_AGED, [
    { value: instructions('old'), timestamp: String(Date.now() - 120_000) },
    { value: instructions('fresh') },
  ]);
  await waitForFinished('aged', ['fresh']);
  const [failure] = await consumeRecords(topics.TOPIC_DLQ_AGED, 1, { timeoutMs: 30_000 });
  expect(JSON.parse(failure!.value!.toString()).requestContext.condition).toBe('RecordAgeExceeded');
  expect(starts(report.entries(), 'aged').flatMap(ids)).toEqual(['fresh']);
  await waitForErrorsCommit('aged', topics.TOPIC_AGED, '2');
});

it('bisectBatchOnFunctionError splits a failing batch until the bad record is isolated', async () => {
  await produce(
    topics.TOPIC_BISECT,
    ['a', 'b', 'c', 'd'].map((id) => ({ value: instructions(id, id === 'd' ? { fail: true } : {}) })),
  );
  const [failure] = await consumeRecords(topics.TOPIC_DLQ_BISECT, 1, { timeoutMs: 60_000 });
  const body = JSON.parse(failure!.value!.toString());
  expect(body.KafkaBatchInfo.recordInfo.offset).toBe('3');
  expect([...finishedIds(report.entries(), 'bisect')].sort()).toEqual(['a', 'b', 'c']);
  const batches = starts(report.entries(), 'bisect').map(ids);
  expect(batches[0]).toEqual(['a', 'b', 'c', 'd']);
  expect(batches).toContainEqual(['a', 'b']);
  expect(batches).toContainEqual(['c', 'd']);
  expect(batches).toContainEqual(['d']);
  await waitForErrorsCommit('bisect', topics.TOPIC_BISECT, '4');
});

describe('ReportBatchItemFailures', () => {
  it('commits up to the lowest failed record and delivers again from it', async () => {
    await produce(topics.TOPIC_PARTIAL, [
      { value: instructions('p1') },
      { value: instructions('p2', { partialTimes: 1 }) },
      { value: instructions('p3') },
    ]);
    await waitFor(() => starts(report.entries(), 'partial').length >= 2, { what: 'a second invocation of partial' });
    const invocations = starts(report.entries(), 'partial').map(ids);
    expect(invocations.slice(0, 2)).toEqual([
      ['p1', 'p2', 'p3'],
      ['p2', 'p3'],
    ]);
    await waitForErrorsCommit('partial', topics.TOPIC_PARTIAL, '3');
  });

  it('an identifier that is not in the batch fails the whole batch', async () => {
    await produce(topics.TOPIC_PARTIAL, [
      { value: instructions('u1', { unknownIdTimes: 1 }) },
      { value: instructions('u2') },
    ]);
    await waitForErrorsCommit('partial', topics.TOPIC_PARTIAL, '5');
    const withU = starts(report.entries(), 'partial')
      .map(ids)
      .filter((batch) => batch.includes('u1'));
    expect(withU).toEqual([
      ['u1', 'u2'],
      ['u1', 'u2'],
    ]);
  });
});
