import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { TOPICS } from '../../lib/kafka/topics';
import {
  BROKERS,
  consumeRecords,
  createTopic,
  deleteTopics,
  testKafka,
  topicEnd,
  uniqueName,
  waitFor,
  withAdmin,
} from '../helpers/kafka';
import { startOffline, type OfflineProcess } from '../helpers/offline';

const ROOT = resolve(__dirname, '..', '..');

/** `npm run kafka -- <args>` as a user types it; stopped by its pid if it outlives `timeoutMs`. */
function npmRunKafka(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('npm', ['run', '--silent', 'kafka', '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_BROKERS: BROKERS.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`npm run kafka -- ${args.join(' ')} ran longer than ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

interface GroupRow {
  topic: string;
  partition: number;
  current: number;
  end: number;
  lag: number;
  consumer: string;
}

/** The per-partition rows of `kafka-consumer-groups --describe --group <group>`. */
async function describeGroup(group: string): Promise<GroupRow[]> {
  const { code, stdout, stderr } = await npmRunKafka(['consumer-groups', '--describe', '--group', group]);
  expect(code).toBe(0);
  expect(stderr).not.toMatch(/error|exception/i); // the tool notes an idle group there
  expect(stdout).toMatch(/GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID/);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[0] === group)
    .map(([, topic, partition, current, end, lag, consumer]) => ({
      topic: topic!,
      partition: Number(partition),
      current: Number(current),
      end: Number(end),
      lag: Number(lag),
      consumer: consumer!,
    }));
}

/**
 * Kafka's own command-line tools through `npm run kafka`, against the real broker, on topics and groups of
 * this test alone (KAFKA_TOPIC_PREFIX): the commands docs/running-locally.md shows for looking inside Kafka.
 */
describe('npm run kafka -- <tool>', () => {
  const prefix = `${uniqueName('kt')}-`;
  const topic = (name: string) => `${prefix}${name}`;
  let offline: OfflineProcess | undefined;

  beforeAll(async () => {
    for (const t of TOPICS) await createTopic(topic(t.name), t.partitions);
    offline = await startOffline({
      env: { KAFKA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' },
      readyPattern: /kafka: ready: /,
      timeoutMs: 90_000,
    });
  }, 150_000);
  afterAll(async () => {
    await offline?.stop();
    await deleteTopics(TOPICS.map((t) => topic(t.name)));
  });

  it('lists and describes topics', async () => {
    const [list, describe] = await Promise.all([
      npmRunKafka(['topics', '--list']),
      npmRunKafka(['topics', '--describe', '--topic', topic('orders')]),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')).toEqual(expect.arrayContaining(TOPICS.map((t) => topic(t.name))));
    expect(describe.code).toBe(0);
    expect(describe.stdout).toMatch(new RegExp(`Topic: ${topic('orders')}\\s+TopicId: \\S+\\s+PartitionCount: 6`));
  });

  it('reads the dead-letter topic with the console consumer, headers included', async () => {
    const producer = testKafka('kt-producer').producer();
    await producer.connect();
    await producer.send({ topic: topic('orders'), messages: [{ key: 'poison-1', value: 'this is not JSON' }] });
    await producer.disconnect();
    const { code, stdout } = await npmRunKafka([
      'console-consumer',
      '--topic',
      topic('dead-letter'),
      '--from-beginning',
      '--max-messages',
      '1',
      '--timeout-ms',
      '30000',
      '--property',
      'print.headers=true',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/dead-letter-reason:\S+/);
    expect(stdout).toMatch(new RegExp(`original-topic:${topic('orders')}`));
    expect(stdout).toMatch(/"type":"record.dead-lettered"/);
  });

  it("shows the order workers' group per partition: caught up after orders are posted, then the lag", async () => {
    const group = topic('order-workers');
    const order = { customerId: 'c-1', items: [{ sku: 'book-1', quantity: 2, unitPriceCents: 1250 }] };
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${offline!.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(order),
      });
      expect(response.status).toBe(202);
    }
    await consumeRecords(topic('order-events'), 3); // fulfil-order processed all three
    // ... and committed them (a worker commits right after its invocation)
    const ends = await topicEnd(topic('orders'));
    await waitFor(
      async () => {
        const [committed] = await withAdmin((admin) =>
          admin.fetchOffsets({ groupId: group, topics: [topic('orders')] }),
        );
        return committed!.partitions.every((p) => ends.get(p.partition) === '0' || p.offset === ends.get(p.partition));
      },
      { what: `${group} to commit every record of ${topic('orders')}` },
    );
    const caughtUp = await describeGroup(group);
    expect(new Set(caughtUp.map((r) => r.topic))).toEqual(new Set([topic('orders')]));
    expect(caughtUp).toHaveLength(6); // one row per partition, held by the running worker
    expect(caughtUp.every((r) => r.consumer !== '-')).toBe(true);
    expect(caughtUp.map((r) => [r.partition, r.end])).toEqual(
      caughtUp.map((r) => [r.partition, Number(ends.get(r.partition))]),
    );
    // a partition without records has no committed offset yet: the tool prints "-" there
    const withRecords = caughtUp.filter((r) => r.end > 0);
    expect(withRecords.map((r) => [r.partition, r.current, r.lag])).toEqual(
      withRecords.map((r) => [r.partition, r.end, 0]),
    );

    // the workers stop (their group keeps its offsets) and two more orders arrive: the tool shows the lag
    await offline!.stop();
    const producer = testKafka('kt-producer').producer();
    await producer.connect();
    const sent = await producer.send({
      topic: topic('orders'),
      messages: withRecords.slice(0, 1).flatMap((r) => [
        { partition: r.partition, value: 'late-1' },
        { partition: r.partition, value: 'late-2' },
      ]),
    });
    await producer.disconnect();
    const behind = await describeGroup(group);
    const partition = behind.find((r) => r.partition === sent[0]!.partition)!;
    expect(partition).toMatchObject({
      current: withRecords[0]!.end,
      end: withRecords[0]!.end + 2,
      lag: 2,
      consumer: '-',
    });
  });
});
