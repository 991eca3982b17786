import { createTopic, deleteTopics, uniqueName, withAdmin } from '../helpers/kafka';
import { freePort, startOffline, type OfflineProcess } from '../helpers/offline';
import { FIXTURE_DIR, createReport, instructions, produce, startFixture, starts, waitForCommit } from './fixture';

/**
 * The event source filters and lives like AWS: filterPatterns, `enabled: false`, a topic missing at
 * start, and an unreachable broker at start (handler reload: reload.test.ts).
 */
const topics = {
  TOPIC_FILTER: uniqueName('es-filter'),
  TOPIC_DISABLED: uniqueName('es-disabled'),
};
const report = createReport();
let offline: OfflineProcess;

beforeAll(async () => {
  for (const topic of Object.values(topics)) await createTopic(topic, 1);
  offline = await startFixture('lifecycle.yml', { ...topics, REPORT_FILE: report.file });
}, 150_000);

afterAll(async () => {
  await offline?.stop();
  await deleteTopics(Object.values(topics));
  report.cleanup();
});

describe('filterPatterns', () => {
  it('only matching records are invoked (JSON and plain-string values); filtered ones are committed', async () => {
    await produce(topics.TOPIC_DISABLED, [{ value: instructions('never') }]);
    await produce(topics.TOPIC_FILTER, [
      { value: JSON.stringify({ id: 'f1', type: 'order.created' }) },
      { value: JSON.stringify({ id: 'f2', type: 'order.cancelled' }) },
      { value: 'hello world' },
      { value: 'bye' },
    ]);
    const group = `es-lifecycle-local-filtered-${topics.TOPIC_FILTER}`;
    await waitForCommit(group, topics.TOPIC_FILTER, '4', 'the filtered records to be committed');
    const delivered = starts(report.entries(), 'filtered').flatMap((e) => e.records.map((r) => r.offset));
    expect(delivered).toEqual([0, 2]);

    // a batch that filters to nothing is committed without an invocation
    const invocations = starts(report.entries(), 'filtered').length;
    await produce(topics.TOPIC_FILTER, [{ value: JSON.stringify({ id: 'f3', type: 'order.cancelled' }) }]);
    await waitForCommit(group, topics.TOPIC_FILTER, '5', 'the filtered-out batch to be committed');
    expect(starts(report.entries(), 'filtered')).toHaveLength(invocations);
    expect(starts(report.entries(), 'filtered').flatMap((e) => e.records.map((r) => r.offset))).toEqual([0, 2]);
  });
});

describe('enabled: false', () => {
  it('the event is not consumed: no invocation, no consumer group', async () => {
    expect(offline.output()).toMatch(
      new RegExp(`kafka: disabled <- ${topics.TOPIC_DISABLED}: enabled: false, not consuming`),
    );
    // the record produced before the filter test's records is still not delivered after those were
    expect(starts(report.entries(), 'disabled')).toHaveLength(0);
    const group = `es-lifecycle-local-disabled-${topics.TOPIC_DISABLED}`;
    const [described] = await withAdmin(async (admin) => (await admin.describeGroups([group])).groups);
    expect(described!.state).toBe('Dead');
  });
});

describe('topic missing at start', () => {
  it('says which topic does not exist, keeps retrying, and HTTP functions keep serving', async () => {
    const missing = uniqueName('es-missing');
    const down = await startOffline({
      cwd: FIXTURE_DIR,
      config: 'lifecycle.yml',
      env: { ...topics, TOPIC_FILTER: missing, REPORT_FILE: report.file },
      readyPattern: new RegExp(`cannot consume from Kafka at [^:]+:\\d+: the topic ${missing} does not exist`),
      timeoutMs: 90_000,
    });
    try {
      expect((await fetch(`${down.url}/ping`)).status).toBe(200);
      expect(down.output()).toMatch(/Retrying in \d+ s \(HTTP functions keep serving\)/);
    } finally {
      expect(await down.stop()).toBe(0);
    }
  });
});

describe('broker unreachable at start', () => {
  it('says so once, keeps retrying with a summary at most every 10 s, and HTTP functions keep serving', async () => {
    const port = await freePort();
    const down = await startOffline({
      cwd: FIXTURE_DIR,
      config: 'lifecycle.yml',
      env: { ...topics, REPORT_FILE: report.file, OVERRIDE_BROKERS: `127.0.0.1:${port}` },
      readyPattern: new RegExp(`Kafka unreachable at 127\\.0\\.0\\.1:${port}: \\S+ <- \\S+ failed`),
      timeoutMs: 90_000,
    });
    try {
      const response = await fetch(`${down.url}/ping`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('pong');
      expect(down.output()).toMatch(/retrying quietly, a summary at most every 10 s \(HTTP functions keep serving\)/);
      // it keeps trying, and says so in a summary, not once per attempt and consumer
      await down.waitForOutput(/Kafka still unreachable after \d+\.\d s: \d+ failed attempt/, 60_000);
      expect(down.output().match(/Kafka unreachable at/g)).toHaveLength(1);
      expect(down.output()).not.toMatch(/cannot consume from Kafka|consumer crashed/);
      expect(down.output()).not.toMatch(/kafka: ready/);
    } finally {
      expect(await down.stop()).toBe(0);
    }
  });
});
