import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReplyTimeoutError } from '../../../lib/request-reply/errors';
import { RR_HEADERS } from '../../../lib/request-reply/protocol';
import type { Reply } from '../../../lib/request-reply/requester';
import { QuoteRequestSchema, priceQuote } from '../../../lib/quotes/quote';
import { createTopic, deleteTopics, testKafka, topicEnd, uniqueName, waitFor } from '../../helpers/kafka';
import { startRequester, startResponder, type RunningResponder } from './harness';

// The requester and the responder helper against the real broker, the responder driven by a plain
// kafkajs consumer (the HTTP path through serverless offline is in quote-http.test.ts).

const body = (reply: Reply) => JSON.parse(reply.value!.toString('utf8')) as Record<string, unknown>;

describe('request-reply over the real broker', () => {
  let requests: string;
  let replies: string;
  let forbidden: string;
  let responderGroup: string;
  const cleanups: (() => Promise<void>)[] = [];
  /** product ids that make the test responder wait before answering (a slow responder) */
  const slow = new Map<string, number>();

  const responder = () =>
    startResponder({
      requestTopic: requests,
      groupId: responderGroup,
      allowedReplyTopics: [replies],
      schema: QuoteRequestSchema,
      handle: async ({ body: request }) => {
        const delay = slow.get(request.productId);
        if (delay) await sleep(delay);
        return priceQuote(request);
      },
    });

  beforeAll(async () => {
    requests = uniqueName('rr-requests');
    replies = uniqueName('rr-replies');
    forbidden = uniqueName('rr-forbidden');
    responderGroup = uniqueName('rr-responder');
    await createTopic(requests, 6);
    await createTopic(replies, 4);
    await createTopic(forbidden, 1);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await deleteTopics([requests, replies, forbidden]);
  });

  test('2,000 concurrent requests each get their own reply: no mismatch, no loss', async () => {
    const running = await responder();
    cleanups.push(() => running.stop());
    const { requester, stop } = startRequester(replies);
    cleanups.push(stop);
    await requester.start();

    const results = await Promise.allSettled(
      Array.from({ length: 2000 }, (_, i) =>
        requester.request({ topic: requests, value: { productId: `p-${i}`, quantity: i + 1 }, key: `p-${i}` }),
      ),
    );

    const failures = results.filter((r) => r.status === 'rejected');
    expect(failures).toEqual([]);
    const mismatches = results.filter((r, i) => {
      const reply = (r as PromiseFulfilledResult<Reply>).value;
      const b = body(reply);
      return reply.status !== 200 || b.productId !== `p-${i}` || b.quantity !== i + 1;
    });
    expect(mismatches).toHaveLength(0);
    const stats = requester.stats();
    expect(stats).toMatchObject({ pending: 0, sent: 2000, replied: 2000, late: 0, unknown: 0, timedOut: 0 });
    // Delivery is at least once (docs/request-reply.md): on a starved machine a reply batch can outlast the
    // responder's send deadline, and the retried batch answers its requests again. Such a duplicate is
    // dropped (the results above are each request's own reply); it can only come from a request handled twice.
    const handledTwice = running.responder.stats().received - 2000;
    expect(stats.duplicate).toBeLessThanOrEqual(handledTwice);
    if (stats.duplicate > 0)
      console.info(`${stats.duplicate} duplicate replies dropped (${handledTwice} requests handled twice)`);
  });

  test('responder stopped: every request gets a timeout at its deadline, nothing leaks; back: success again', async () => {
    const { requester, stop } = startRequester(replies);
    cleanups.push(stop);
    await requester.start();

    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        requester.request({ topic: requests, value: { productId: `down-${i}`, quantity: 1 }, timeoutMs: 1500 }),
      ),
    );
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof ReplyTimeoutError)).toBe(true);
    expect((outcomes[0] as PromiseRejectedResult).reason.statusCode).toBe(504);
    expect(requester.stats()).toMatchObject({ pending: 0, timedOut: 20, replied: 0 });

    // the responder comes back: it finds the 20 expired requests first and skips them, then answers
    const running = await responder();
    cleanups.push(() => running.stop());
    const reply = await requester.request({ topic: requests, value: { productId: 'back-1', quantity: 3 } });
    expect(reply.status).toBe(200);
    expect(body(reply)).toMatchObject({ productId: 'back-1', quantity: 3 });
    await waitFor(() => running.responder.stats().expired >= 20, { what: '20 expired requests skipped' });
    expect(requester.stats()).toMatchObject({ pending: 0, late: 0, unknown: 0 });
  });

  test('a late reply is dropped and counted, never handed to a later request', async () => {
    const running = await responder();
    cleanups.push(() => running.stop());
    const { requester, stop } = startRequester(replies);
    cleanups.push(stop);
    await requester.start();

    slow.set('slow-1', 2500);
    await expect(
      requester.request({ topic: requests, value: { productId: 'slow-1', quantity: 1 }, key: 'same', timeoutMs: 1000 }),
    ).rejects.toBeInstanceOf(ReplyTimeoutError);
    // same key = same request partition: this request is answered right after the slow one
    const later = requester.request({ topic: requests, value: { productId: 'fast-1', quantity: 7 }, key: 'same' });
    const reply = await later;
    expect(body(reply)).toMatchObject({ productId: 'fast-1', quantity: 7 });
    await waitFor(() => requester.stats().late === 1, { what: 'the late reply counted' });
    expect(requester.stats()).toMatchObject({ pending: 0, replied: 1, timedOut: 1 });
  });

  test('two requesters, even on the same reply partition, never receive each other’s replies', async () => {
    const running = await responder();
    cleanups.push(() => running.stop());
    const a = startRequester(replies, { replyPartition: 1 });
    const b = startRequester(replies, { replyPartition: 1 });
    const c = startRequester(replies, { replyPartition: 2 });
    cleanups.push(a.stop, b.stop, c.stop);
    await Promise.all([a.requester.start(), b.requester.start(), c.requester.start()]);

    const fire = (name: string, r: typeof a) =>
      Promise.all(
        Array.from({ length: 150 }, (_, i) =>
          r.requester.request({ topic: requests, value: { productId: `${name}-${i}`, quantity: i + 1 } }),
        ),
      );
    const [ra, rb, rc] = await Promise.all([fire('a', a), fire('b', b), fire('c', c)]);
    for (const [name, list] of [
      ['a', ra],
      ['b', rb],
      ['c', rc],
    ] as const) {
      list.forEach((reply, i) => expect(body(reply)).toMatchObject({ productId: `${name}-${i}`, quantity: i + 1 }));
    }
    // a and b share partition 1: each sees the other's 150 replies and drops them as unknown
    await waitFor(() => a.requester.stats().unknown === 150 && b.requester.stats().unknown === 150, {
      what: 'a and b dropping each other’s replies',
    });
    expect(c.requester.stats().unknown).toBe(0);
    for (const r of [a, b, c]) expect(r.requester.stats()).toMatchObject({ pending: 0, replied: 150, late: 0 });
  });

  describe('responder rules on raw records (Spring and NestJS formats, non-requests, allow-list)', () => {
    let running: RunningResponder;
    beforeEach(async () => {
      running = await responder();
      cleanups.push(() => running.stop());
    });

    test('replies to Spring (16-byte id, int32 partition) and NestJS (UUID string, decimal partition) requests, echoing the id bytes', async () => {
      const before = await topicEnd(replies);
      const springId = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
      const nestId = randomUUID();
      const partition3 = Buffer.alloc(4);
      partition3.writeInt32BE(3);
      const producer = testKafka('rr-raw').producer();
      await producer.connect();
      cleanups.push(() => producer.disconnect());
      await producer.send({
        topic: requests,
        messages: [
          {
            value: JSON.stringify({ productId: 'spring', quantity: 2 }),
            headers: {
              [RR_HEADERS.correlationId]: springId,
              [RR_HEADERS.replyTopic]: replies,
              [RR_HEADERS.replyPartition]: partition3,
            },
          },
          {
            value: JSON.stringify({ productId: 'nest', quantity: 5 }),
            headers: {
              [RR_HEADERS.correlationId]: nestId,
              [RR_HEADERS.replyTopic]: replies,
              [RR_HEADERS.replyPartition]: '2',
            },
          },
        ],
      });
      const consumer = testKafka('rr-raw').consumer({ groupId: uniqueName('rr-raw') });
      cleanups.push(() => consumer.disconnect());
      const seen: { partition: number; id: Buffer; status: string; body: Record<string, unknown> }[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: replies });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push({
            partition,
            id: message.headers![RR_HEADERS.correlationId] as Buffer,
            status: String(message.headers![RR_HEADERS.replyStatus]),
            body: JSON.parse(message.value!.toString()),
          });
        },
      });
      for (const [p, offset] of before) consumer.seek({ topic: replies, partition: p, offset });
      await waitFor(() => seen.length >= 2, { what: 'two replies' });
      const spring = seen.find((s) => s.body.productId === 'spring')!;
      const nest = seen.find((s) => s.body.productId === 'nest')!;
      expect(spring.partition).toBe(3);
      expect(spring.id.equals(springId)).toBe(true);
      expect(spring.status).toBe('200');
      expect(nest.partition).toBe(2);
      expect(nest.id.toString()).toBe(nestId);
    });

    test('non-requests, expired requests, bad partitions and reply topics outside the allow-list get no reply; business errors get an error reply', async () => {
      const forbiddenBefore = await topicEnd(forbidden);
      const producer = testKafka('rr-raw').producer();
      await producer.connect();
      cleanups.push(() => producer.disconnect());
      const { requester, stop } = startRequester(replies);
      cleanups.push(stop);
      await requester.start();
      const base = running.responder.stats();
      await producer.send({
        topic: requests,
        messages: [
          { key: 'k', value: JSON.stringify({ productId: 'event', quantity: 1 }) },
          {
            key: 'k',
            value: JSON.stringify({ productId: 'forbidden', quantity: 1 }),
            headers: { [RR_HEADERS.correlationId]: randomUUID(), [RR_HEADERS.replyTopic]: forbidden },
          },
          {
            key: 'k',
            value: JSON.stringify({ productId: 'expired', quantity: 1 }),
            headers: {
              [RR_HEADERS.correlationId]: randomUUID(),
              [RR_HEADERS.replyTopic]: replies,
              [RR_HEADERS.deadline]: String(Date.now() - 1000),
            },
          },
          {
            key: 'k',
            value: JSON.stringify({ productId: 'no-such-partition', quantity: 1 }),
            headers: {
              [RR_HEADERS.correlationId]: randomUUID(),
              [RR_HEADERS.replyTopic]: replies,
              [RR_HEADERS.replyPartition]: '99',
            },
          },
        ],
      });
      // sent after the four above on the same key: once it is answered, they were handled
      const refused = await requester.request({
        topic: requests,
        value: { productId: 'discontinued-1', quantity: 1 },
        key: 'k',
      });
      expect(refused.status).toBe(422);
      expect(body(refused)).toMatchObject({ error: { code: 'PRODUCT_DISCONTINUED' } });
      const invalid = await requester.request({ topic: requests, value: { productId: 'x', quantity: -1 }, key: 'k' });
      expect(invalid.status).toBe(400);

      const stats = running.responder.stats();
      expect(stats.notRequest - base.notRequest).toBe(1);
      expect(stats.forbiddenReplyTopic - base.forbiddenReplyTopic).toBe(1);
      expect(stats.expired - base.expired).toBe(1);
      expect(stats.badReplyPartition - base.badReplyPartition).toBe(1);
      expect(stats.errorReplies - base.errorReplies).toBe(2);
      expect(await topicEnd(forbidden)).toEqual(forbiddenBefore);
    });
  });
});
