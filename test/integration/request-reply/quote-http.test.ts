import { TOPICS } from '../../../lib/kafka/topics';
import { createTopic, deleteTopics, topicEnd, uniqueName } from '../../helpers/kafka';
import { freePort, startOffline, type OfflineProcess } from '../../helpers/offline';
import { pool, postQuote } from './interop';

/**
 * POST /quotes end to end: HTTP → `quote` → quote-requests → the local event source → `price-quote` →
 * quote-replies → the reply listener → HTTP answer, all inside one `serverless offline` on the real broker.
 * Each offline process gets its own copy of every declared topic under a unique KAFKA_TOPIC_PREFIX.
 */
async function prefixedTopics(label: string) {
  const prefix = `${uniqueName(label)}-`;
  for (const t of TOPICS) await createTopic(`${prefix}${t.name}`, t.partitions);
  return { prefix, cleanup: () => deleteTopics(TOPICS.map((t) => `${prefix}${t.name}`)) };
}

const post = postQuote;

describe('POST /quotes through serverless offline and the local event source', () => {
  let offline: OfflineProcess;
  let topics: Awaited<ReturnType<typeof prefixedTopics>>;

  beforeAll(async () => {
    topics = await prefixedTopics('rrq');
    offline = await startOffline({
      env: { KAFKA_TOPIC_PREFIX: topics.prefix, LOG_LEVEL: 'warn' },
      readyPattern: /kafka: ready: /,
      timeoutMs: 120_000,
    });
  }, 180_000);

  afterAll(async () => {
    await offline?.stop();
    await topics?.cleanup();
  });

  test('answers with price-quote’s reply, the caller’s correlation id and the Kafka correlation id', async () => {
    const response = await post(offline, { productId: 'book-42', quantity: 120 }, { 'x-correlation-id': 'rr-e2e-1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('rr-e2e-1');
    expect(response.headers.get('x-kafka-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const quote = (await response.json()) as Record<string, number | string>;
    expect(quote).toMatchObject({ productId: 'book-42', quantity: 120, currency: 'EUR', discountPercent: 5 });
    expect(quote.totalCents).toBe(Math.round(((quote.unitPriceCents as number) * 120 * 95) / 100));
  });

  test('400 for an invalid body, 413 for a body over the limit, the responder’s 422 for a refused quote', async () => {
    const invalid = await post(offline, { productId: 'x', quantity: 0 });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });

    const huge = await post(offline, JSON.stringify({ productId: 'x', quantity: 1, pad: 'x'.repeat(70 * 1024) }));
    expect(huge.status).toBe(413);

    // refused before anything is asked of Kafka: quote-requests does not grow
    const requests = `${topics.prefix}quote-requests`;
    const before = await topicEnd(requests);
    const notUtf8 = await post(offline, Buffer.from('{"productId":"\xff","quantity":1}', 'latin1'));
    expect(notUtf8.status).toBe(400);
    expect(await notUtf8.json()).toMatchObject({ error: { message: expect.stringMatching(/not valid UTF-8/) } });
    const textPlain = await post(offline, { productId: 'x', quantity: 1 }, { 'content-type': 'text/plain' });
    expect(textPlain.status).toBe(415);
    expect(await topicEnd(requests)).toEqual(before);

    const refused = await post(
      offline,
      { productId: 'discontinued-7', quantity: 1 },
      { 'x-correlation-id': 'rr-e2e-2' },
    );
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual({
      error: {
        code: 'PRODUCT_DISCONTINUED',
        message: 'product discontinued-7 is discontinued and cannot be quoted',
        correlationId: 'rr-e2e-2',
      },
    });
  });

  // serverless offline starts one worker thread ("container") per concurrent request, as Lambda does:
  // 2,000 at once would start 2,000 workers on this 2-core machine. The requester itself takes 2,000 at
  // once (request-reply.test.ts); here 4 warm containers share 1,000 requests. A timeout (504, or
  // serverless offline's own Lambda timeout) is retried as a client would: on a shared, overloaded
  // machine a deadline can pass. What must never happen is an answer that belongs to another request.
  test('1,000 requests, 4 at a time: every answer is the quote of its own request', async () => {
    let retries = 0;
    const responses = await pool(1000, 4, async (i) => {
      for (let attempt = 1; ; attempt += 1) {
        const response = await post(offline, { productId: `e2e-${i}`, quantity: i + 1 });
        const body = (await response.json()) as Record<string, unknown>;
        const timedOut = response.status === 504 || body.errorType === 'LambdaTimeoutError';
        if (!timedOut || attempt === 3) return { status: response.status, body };
        retries += 1;
      }
    });
    const wrong = responses.filter(
      (r, i) => r.status !== 200 || r.body.productId !== `e2e-${i}` || r.body.quantity !== i + 1,
    );
    expect(wrong).toEqual([]);
    if (retries > 0) console.info(`${retries} request(s) timed out once and were retried`);
  }, 600_000);
});

describe('POST /quotes when no reply can come', () => {
  test('reply topic outside the responder’s allow-list: no reply is written, the caller gets 504 at the deadline', async () => {
    const topics = await prefixedTopics('rrq-deny');
    const offline = await startOffline({
      env: {
        KAFKA_TOPIC_PREFIX: topics.prefix,
        LOG_LEVEL: 'warn',
        REPLY_TIMEOUT_MS: '1500',
        QUOTE_REPLY_TOPICS_ALLOWED: 'somewhere-else',
      },
      readyPattern: /kafka: ready: /,
      timeoutMs: 120_000,
    });
    try {
      const before = await topicEnd(`${topics.prefix}quote-replies`);
      const response = await post(offline, { productId: 'p-1', quantity: 1 }, { 'x-correlation-id': 'rr-e2e-504' });
      expect(response.status).toBe(504);
      // the request went through Kafka: the answer names it, although no reply came
      expect(response.headers.get('x-kafka-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(await response.json()).toMatchObject({
        error: { code: 'REPLY_TIMEOUT', correlationId: 'rr-e2e-504' },
      });
      await offline.waitForOutput(/request skipped: its reply topic is not on the allow-list/, 30_000);
      expect(await topicEnd(`${topics.prefix}quote-replies`)).toEqual(before);
    } finally {
      await offline.stop();
      await topics.cleanup();
    }
  });

  test('broker unreachable: 503 with Retry-After, and the HTTP function keeps answering', async () => {
    const port = await freePort(); // nothing listens there
    const offline = await startOffline({
      env: { KAFKA_BROKERS: `127.0.0.1:${port}`, LOG_LEVEL: 'error', REPLY_TIMEOUT_MS: '2000' },
      timeoutMs: 120_000,
    });
    try {
      for (const attempt of [1, 2]) {
        const response = await post(
          offline,
          { productId: 'p-1', quantity: 1 },
          { 'x-correlation-id': `rr-503-${attempt}` },
        );
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
        // nothing was sent: no Kafka request to name
        expect(response.headers.get('x-kafka-correlation-id')).toBeNull();
        expect(await response.json()).toMatchObject({ error: { correlationId: `rr-503-${attempt}` } });
      }
    } finally {
      await offline.stop();
    }
  });
});
