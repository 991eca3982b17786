import { randomInt } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { AppError, BrokerUnavailableError } from '../../../lib/errors';
import { createLogger } from '../../../lib/logger';
import { ReplyListenerUnavailableError, ReplyTimeoutError } from '../../../lib/request-reply/errors';
import { createPendingReplies, type Reply } from '../../../lib/request-reply/pending-replies';
import { RR_HEADERS, decodeReplyPartition, lastHeader } from '../../../lib/request-reply/protocol';
import { createRequester, type RequesterOptions } from '../../../lib/request-reply/requester';
import { FakeKafka, FakeTransport, flush, replyMessage } from './fake-kafka';

const REPLIES = 'quote-replies';

function setup(overrides: Partial<RequesterOptions> = {}) {
  const kafka = new FakeKafka();
  const transport = new FakeTransport();
  const requester = createRequester({
    kafka,
    transport,
    logger: createLogger({ level: 'silent' }),
    replyTopic: REPLIES,
    timeoutMs: 2000,
    replyPartition: 1,
    groupIdPrefix: 'svc-test',
    ...overrides,
  });
  let nextOffset = 0;
  /** the responder's side: a reply record on the reply partition */
  const reply = async (correlationId: string | Buffer, value: unknown, status = '200') => {
    await kafka.latest.deliver(REPLIES, 1, [
      replyMessage(
        nextOffset++,
        { [RR_HEADERS.correlationId]: correlationId, [RR_HEADERS.replyStatus]: status },
        value,
      ),
    ]);
  };
  const header = (message: { headers?: unknown }, name: string) =>
    lastHeader((message.headers as KafkaMessage['headers'])?.[name]);
  const sentIds = () => transport.sent.map((t) => header(t.messages[0]!, RR_HEADERS.correlationId)!.toString());
  /** start the requester: the fake group is joined as soon as its consumer runs */
  const start = async () => {
    const started = requester.start();
    while (!kafka.consumers[0]?.running) await new Promise((resolve) => setTimeout(resolve, 1));
    await kafka.latest.join(REPLIES);
    await started;
  };
  return { kafka, transport, requester, reply, header, sentIds, start };
}

describe('requester', () => {
  test('a request carries the reply address, a deadline and its own correlation id; its reply resolves it', async () => {
    const s = setup();
    await s.start();
    const before = Date.now();
    const pending = s.requester.request({ topic: 'quote-requests', value: { productId: 'p-1' }, key: 'p-1' });
    await flush();
    expect(s.transport.sent).toHaveLength(1);
    const [sent] = s.transport.sent;
    const message = sent!.messages[0]!;
    expect(sent!.topic).toBe('quote-requests');
    expect(message.key).toBe('p-1');
    expect(JSON.parse(String(message.value))).toEqual({ productId: 'p-1' });
    expect(s.header(message, RR_HEADERS.replyTopic)!.toString()).toBe(REPLIES);
    const deadline = Number(s.header(message, RR_HEADERS.deadline)!.toString());
    expect(deadline).toBeGreaterThanOrEqual(before + 2000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 2000);

    const [id] = s.sentIds();
    await s.reply(id!, { price: 12 });
    const reply = await pending;
    expect(reply).toMatchObject({ correlationId: id, status: 200, partition: 1, offset: '0' });
    expect(JSON.parse(reply.value!.toString())).toEqual({ price: 12 });
    expect(s.requester.stats()).toMatchObject({ pending: 0, sent: 1, replied: 1, joins: 1 });
  });

  test.each([
    ['int32', Buffer.from([0, 0, 0, 1])],
    ['decimal', Buffer.from('1')],
  ] as const)('kafka_replyPartition is written as %s', async (format, bytes) => {
    const s = setup({ replyPartitionFormat: format });
    await s.start();
    void s.requester.request({ topic: 'quote-requests', value: {}, timeoutMs: 50 }).catch(() => undefined);
    await flush();
    const written = s.header(s.transport.sent[0]!.messages[0]!, RR_HEADERS.replyPartition)!;
    expect(written).toEqual(bytes);
    expect(decodeReplyPartition(written)).toBe(1);
  });

  test('a publish failure is a 503 that names the Kafka request; a reply to it later is late', async () => {
    const s = setup();
    await s.start();
    s.transport.failSend = new BrokerUnavailableError('publishing to Kafka did not complete within 2000 ms');
    const error = await s.requester.request({ topic: 'quote-requests', value: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    const id = (error as AppError).headers['x-kafka-correlation-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.requester.stats()).toMatchObject({ pending: 0, sent: 0, publishFailed: 1 });

    // the record may have been written after all: its reply is dropped as late, it resolves nothing
    s.transport.failSend = undefined;
    const other = s.requester.request({ topic: 'quote-requests', value: { n: 2 } });
    await flush();
    await s.reply(id!, { wrong: true });
    await s.reply(s.sentIds()[0]!, { right: true });
    expect(JSON.parse((await other).value!.toString())).toEqual({ right: true });
    expect(s.requester.stats()).toMatchObject({ late: 1, replied: 1, unknown: 0 });
  });

  test('no reply in time is a 504 naming the request; the reply that comes later is counted late', async () => {
    const s = setup();
    await s.start();
    const error = await s.requester
      .request({ topic: 'quote-requests', value: {}, timeoutMs: 30 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyTimeoutError);
    expect((error as AppError).statusCode).toBe(504);
    const [id] = s.sentIds();
    expect((error as AppError).headers['x-kafka-correlation-id']).toBe(id);
    await s.reply(id!, {});
    expect(s.requester.stats()).toMatchObject({ pending: 0, timedOut: 1, late: 1, replied: 0 });
  });

  test('duplicate and unknown replies are counted and resolve nothing', async () => {
    const s = setup();
    await s.start();
    const first = s.requester.request({ topic: 'quote-requests', value: {} });
    const second = s.requester.request({ topic: 'quote-requests', value: {} });
    await flush();
    const [a, b] = s.sentIds();
    await s.reply(a!, { to: 'a' });
    await s.reply(a!, { to: 'a, again' });
    await s.reply('00000000-0000-0000-0000-000000000000', { to: 'nobody' });
    await s.kafka.latest.deliver(REPLIES, 1, [replyMessage(99, {}, { no: 'headers' })]);
    expect(JSON.parse((await first).value!.toString())).toEqual({ to: 'a' });
    expect(s.requester.stats()).toMatchObject({ pending: 1, replied: 1, duplicate: 1, unknown: 2 });
    await s.reply(b!, { to: 'b' });
    expect(JSON.parse((await second).value!.toString())).toEqual({ to: 'b' });
  });

  test('1,000 concurrent requests answered in random order: each gets its own reply', async () => {
    const s = setup({ timeoutMs: 10_000 });
    await s.start();
    const requests = Array.from({ length: 1000 }, (_, n) =>
      s.requester.request({ topic: 'quote-requests', value: { n } }),
    );
    await flush();
    const sent = s.transport.sent.map((t) => t.messages[0]!);
    expect(sent).toHaveLength(1000);
    // the responder echoes each request's body; replies arrive shuffled, in batches of up to 50
    const order = sent.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i -= 1) {
      const j = randomInt(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let offset = 0;
    while (order.length > 0) {
      const batch = order.splice(0, 1 + randomInt(50)).map((i) => {
        const message = sent[i]!;
        return replyMessage(
          offset++,
          { [RR_HEADERS.correlationId]: s.header(message, RR_HEADERS.correlationId)!, [RR_HEADERS.replyStatus]: '200' },
          JSON.parse(String(message.value)),
        );
      });
      await s.kafka.latest.deliver(REPLIES, 1, batch);
    }
    const replies = await Promise.all(requests);
    replies.forEach((reply, n) => expect(JSON.parse(reply.value!.toString())).toEqual({ n }));
    expect(new Set(replies.map((r) => r.correlationId)).size).toBe(1000);
    expect(s.requester.stats()).toMatchObject({ pending: 0, sent: 1000, replied: 1000, duplicate: 0, unknown: 0 });
  });

  test('a listener that cannot be positioned is a 503 and nothing is sent', async () => {
    const s = setup();
    const error = await s.requester
      .request({ topic: 'quote-requests', value: {}, timeoutMs: 40 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyListenerUnavailableError);
    expect((error as AppError).statusCode).toBe(503);
    expect((error as AppError).headers).toEqual({});
    expect(s.transport.sent).toHaveLength(0);
    expect(s.requester.stats()).toMatchObject({ pending: 0, sent: 0, joins: 0 });
  });

  test('stop fails every pending request with a 503 and disconnects the listener', async () => {
    const s = setup();
    await s.start();
    const waiting = [1, 2, 3].map(() => s.requester.request({ topic: 'quote-requests', value: {} }));
    await flush();
    await s.requester.stop();
    for (const request of waiting) await expect(request).rejects.toThrow('the requester is shutting down');
    expect(s.requester.stats().pending).toBe(0);
    expect(s.kafka.latest.calls).toContain('disconnect');
    await expect(s.requester.request({ topic: 'quote-requests', value: {} })).rejects.toThrow(
      'the requester was stopped',
    );
  });
});

describe('pending replies', () => {
  const replyFor =
    (correlationId: string): (() => Reply) =>
    () => ({
      correlationId,
      status: 200,
      value: Buffer.from(correlationId),
      headers: {},
      partition: 0,
      offset: '0',
    });

  test('settles each id once: replied, then duplicate; unknown ids never resolve anything', async () => {
    const pending = createPendingReplies();
    const a = pending.register('a', 1000, () => new Error('timeout'));
    expect(pending.settle('b', replyFor('b'))).toBe('unknown');
    expect(pending.settle('a', replyFor('a'))).toBe('replied');
    expect(pending.settle('a', replyFor('a'))).toBe('duplicate');
    expect((await a).correlationId).toBe('a');
    expect(pending.counts()).toEqual({ pending: 0, replied: 1, timedOut: 0, late: 0, duplicate: 1, unknown: 1 });
  });

  test('a timed-out or abandoned id is late afterwards', async () => {
    const pending = createPendingReplies();
    const timedOut = pending.register('t', 5, () => new Error('no reply for t'));
    await expect(timedOut).rejects.toThrow('no reply for t');
    void pending.register('x', 1000, () => new Error('timeout'));
    expect(pending.abandon('x')).toBe(true);
    expect(pending.abandon('x')).toBe(false);
    expect(pending.settle('t', replyFor('t'))).toBe('late');
    expect(pending.settle('x', replyFor('x'))).toBe('late');
    expect(pending.counts()).toMatchObject({ pending: 0, timedOut: 1, late: 2, replied: 0 });
  });

  test('remembers only the newest ids: an older one becomes unknown', async () => {
    const pending = createPendingReplies({ memory: 2 });
    for (const id of ['1', '2', '3']) {
      void pending.register(id, 1000, () => new Error('timeout'));
      pending.settle(id, replyFor(id));
    }
    expect(pending.settle('3', replyFor('3'))).toBe('duplicate');
    expect(pending.settle('2', replyFor('2'))).toBe('duplicate');
    expect(pending.settle('1', replyFor('1'))).toBe('unknown');
  });

  test('rejectAll rejects every waiting request and leaves none pending', async () => {
    const pending = createPendingReplies();
    const waiting = ['a', 'b'].map((id) => pending.register(id, 1000, () => new Error('timeout')));
    pending.rejectAll(new Error('shutting down'));
    for (const w of waiting) await expect(w).rejects.toThrow('shutting down');
    expect(pending.counts().pending).toBe(0);
  });
});
