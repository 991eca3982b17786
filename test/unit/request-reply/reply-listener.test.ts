import { AppError } from '../../../lib/errors';
import { createLogger } from '../../../lib/logger';
import { ReplyListenerUnavailableError } from '../../../lib/request-reply/errors';
import { createReplyListener, type ReplyListenerOptions } from '../../../lib/request-reply/reply-listener';
import { FakeKafka, FakeTransport, flush, replyMessage } from './fake-kafka';

const TOPIC = 'quote-replies';

function setup(overrides: Partial<ReplyListenerOptions> = {}) {
  const kafka = new FakeKafka();
  const transport = new FakeTransport();
  const received: { offset: string; partition: number }[] = [];
  const listener = createReplyListener({
    createConsumer: (config) => kafka.consumer(config),
    endOffsets: (topic) => transport.endOffsets(topic),
    logger: createLogger({ level: 'silent' }),
    replyTopic: TOPIC,
    replyPartition: 1,
    groupIdPrefix: 'svc-test',
    onMessage: (message, partition) => received.push({ offset: message.offset, partition }),
    relaunchDelayMs: 5,
    ...overrides,
  });
  return { kafka, transport, listener, received };
}

/** Start the listener and let its consumer join the group once it runs. */
async function startAndJoin(s: ReturnType<typeof setup>, timeoutMs = 1000): Promise<void> {
  const started = s.listener.start(timeoutMs);
  await waitUntil(() => s.kafka.consumers.length > 0 && s.kafka.latest.running);
  await s.kafka.latest.join(TOPIC);
  await started;
}

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('reply listener', () => {
  test('seeks to the end offset read before the start, before the first fetch', async () => {
    const s = setup();
    s.transport.ends = new Map([
      [0, '7'],
      [1, '42'],
      [2, '9'],
    ]);
    await startAndJoin(s);
    const consumer = s.kafka.latest;
    await consumer.deliver(TOPIC, 1, [replyMessage(42, {}), replyMessage(43, {})]);

    expect(consumer.seeks).toEqual([{ topic: TOPIC, partition: 1, offset: '42' }]);
    expect(consumer.calls).toEqual(['connect', 'subscribe', 'run', 'seek:42', 'batch:42']);
    expect(s.received).toEqual([
      { offset: '42', partition: 1 },
      { offset: '43', partition: 1 },
    ]);
    expect(s.listener.joins()).toBe(1);
    expect(consumer.config).toMatchObject({ allowAutoTopicCreation: false });
  });

  test('its own assigner hands it exactly its reply partition', async () => {
    const s = setup({ replyPartition: 2 });
    await startAndJoin(s);
    expect(await s.kafka.latest.assignment(TOPIC)).toEqual([2]);
    expect(s.listener.partition()).toBe(2);
  });

  test('without a configured partition it picks one of the topic, and keeps it', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 30; i += 1) {
      const s = setup({ replyPartition: undefined });
      await startAndJoin(s);
      const partition = s.listener.partition()!;
      expect([0, 1, 2]).toContain(partition);
      expect(await s.kafka.latest.assignment(TOPIC)).toEqual([partition]);
      expect(s.kafka.latest.seeks[0]!.partition).toBe(partition);
      seen.add(partition);
      await s.listener.stop();
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  test('start is idempotent: one consumer, one end-offset read', async () => {
    const s = setup();
    await startAndJoin(s);
    await Promise.all([s.listener.start(100), s.listener.start(100)]);
    expect(s.kafka.consumers).toHaveLength(1);
    expect(s.transport.endOffsetCalls).toBe(1);
  });

  test('a rejoin resumes at the last offset handed over + 1', async () => {
    const s = setup();
    s.transport.ends = new Map([[1, '10']]);
    await startAndJoin(s);
    const consumer = s.kafka.latest;
    await consumer.deliver(TOPIC, 1, [replyMessage(10, {}), replyMessage(11, {}), replyMessage(12, {})]);
    await consumer.join(TOPIC); // e.g. a frozen container thawed, evicted from its group
    expect(consumer.seeks.map((x) => x.offset)).toEqual(['10', '13']);
    expect(s.listener.joins()).toBe(2);
    expect(s.kafka.consumers).toHaveLength(1);
  });

  test('a join that does not assign its partition does not position it', async () => {
    const s = setup();
    const started = s.listener.start(100);
    await waitUntil(() => s.kafka.consumers.length > 0 && s.kafka.latest.running);
    await s.kafka.latest.join(TOPIC, [0]);
    await expect(started).rejects.toBeInstanceOf(ReplyListenerUnavailableError);
    expect(s.kafka.latest.seeks).toEqual([]);
  });

  test('a crash starts a NEW group that resumes where the old one stopped', async () => {
    const s = setup();
    s.transport.ends = new Map([[1, '5']]);
    await startAndJoin(s);
    const first = s.kafka.latest;
    await first.deliver(TOPIC, 1, [replyMessage(5, {}), replyMessage(6, {})]);
    s.transport.ends = new Map([[1, '100']]); // replies written meanwhile must not be skipped
    first.crash(new Error('The coordinator is not available'));
    expect(first.calls).toContain('disconnect');

    await waitUntil(() => s.kafka.consumers.length === 2 && s.kafka.latest.running);
    const second = s.kafka.latest;
    expect(second.config.groupId).not.toBe(first.config.groupId);
    expect(second.config.groupId).toMatch(/^svc-test\.reply\.quote-replies\./);
    await second.join(TOPIC);
    await s.listener.start(100);
    // it continues after the last reply handed over; it does not jump to the new end
    expect(second.seeks.map((x) => x.offset)).toEqual(['7']);
  });

  test('a start that is not positioned in time is a 503', async () => {
    const s = setup();
    const error = await s.listener.start(50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyListenerUnavailableError);
    expect((error as AppError).statusCode).toBe(503);
    expect((error as AppError).message).toMatch(/not positioned on "quote-replies" within 50 ms/);
    // the attempt goes on: when the group is joined, the next start is immediate
    await s.kafka.latest.join(TOPIC);
    await s.listener.start(10);
    expect(s.kafka.consumers).toHaveLength(1);
  });

  test('an unreadable reply topic is a 503 naming it; the next start tries again', async () => {
    const s = setup();
    s.transport.failEndOffsets = new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    const error = await s.listener.start(500).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyListenerUnavailableError);
    expect((error as Error).message).toMatch(/cannot read the reply topic "quote-replies" \(Connection error/);
    expect(s.kafka.consumers).toHaveLength(0);

    s.transport.failEndOffsets = undefined;
    await startAndJoin(s);
    expect(s.transport.endOffsetCalls).toBe(2);
  });

  test('a reply topic without the configured partition is refused', async () => {
    const s = setup({ replyPartition: 9 });
    await expect(s.listener.start(500)).rejects.toThrow('the reply topic "quote-replies" has no partition 9');
    s.transport.ends = new Map();
    await expect(s.listener.start(500)).rejects.toThrow('the reply topic "quote-replies" has no partitions');
  });

  test('a consumer that cannot connect is disconnected and reported', async () => {
    const s = setup();
    s.kafka.failConnect = new Error('SASL authentication failed');
    await expect(s.listener.start(500)).rejects.toThrow(
      'the reply listener could not start: SASL authentication failed',
    );
    expect(s.kafka.latest.calls).toEqual(['connect', 'disconnect']);
  });

  test('stop disconnects, and no start or relaunch follows', async () => {
    const s = setup();
    await startAndJoin(s);
    const consumer = s.kafka.latest;
    await s.listener.stop();
    expect(consumer.calls[consumer.calls.length - 1]).toBe('disconnect');
    await expect(s.listener.start(100)).rejects.toThrow('the requester was stopped');
    consumer.crash(new Error('late crash'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await flush();
    expect(s.kafka.consumers).toHaveLength(1);
  });
});
