import { TOPIC_NAMES } from '../../../lib/kafka/topics';
import { LISTENERS } from '../../../lib/orders/listeners';
import { placeOrder } from '../../../lib/orders/place-order';
import { runtime } from '../../../lib/runtime';
import { testKafka, waitFor } from '../../helpers/kafka';
import { startOffline, type OfflineProcess } from '../../helpers/offline';
import {
  anOrder,
  caughtUp,
  groupLag,
  inParallel,
  postOrder,
  readEnvelopes,
  recordCount,
  usePrefixedTopics,
} from './harness';

/**
 * The whole flow through `serverless offline` and the local Kafka event source: POST /orders →
 * orders → fulfil-order (queue) → order-events → audit-log, notify-customer, update-analytics (fan-out),
 * and update-analytics's Avro facts → record-revenue (the event source decodes them with the registry
 * npm test runs on 127.0.0.1:8081, and filters on the decoded value).
 * PATTERNS_ORDER_COUNT sets how many orders the queue test posts: 1,000 by default, enough for every
 * partition of every group, and 20 re-posted orders; docs/patterns.md has the figures at 10,000.
 */
const ORDER_COUNT = Number(process.env.PATTERNS_ORDER_COUNT ?? 1_000);
const LISTENER_OUTPUTS = Object.values(LISTENERS);

describe('orders flow through serverless offline', () => {
  let env: Awaited<ReturnType<typeof usePrefixedTopics>>;
  let offline: OfflineProcess;

  beforeAll(async () => {
    env = await usePrefixedTopics('p4-flow');
    offline = await startOffline({
      env: { KAFKA_TOPIC_PREFIX: env.prefix, LOG_LEVEL: 'warn' },
      readyPattern: /kafka: ready: /,
      timeoutMs: 150_000,
    });
  }, 200_000);
  afterAll(async () => {
    await offline?.stop();
    await runtime().publisher.disconnect();
    await env?.cleanup();
  });

  const allCaughtUp = async () =>
    (await caughtUp(env.topic('order-workers'), env.topic('orders'))) &&
    (await Promise.all(LISTENER_OUTPUTS.map((l) => caughtUp(env.topic(l.name), env.topic('order-events'))))).every(
      Boolean,
    ) &&
    (await caughtUp(env.topic('record-revenue'), env.topic(TOPIC_NAMES.orderAnalytics)));
  const ledger = async () =>
    readEnvelopes<{ orderId: string; revenueCents: number }>(
      env.topic(TOPIC_NAMES.revenueLedger),
      await recordCount(env.topic(TOPIC_NAMES.revenueLedger)),
      180_000,
    );

  it(`queue + fan-out + chaining: ${ORDER_COUNT} orders, each fulfilled once by id and seen by every listener`, async () => {
    // Prepare: every 50th order is posted twice, as a client retrying would
    const ids = Array.from({ length: ORDER_COUNT }, (_, i) => `o-${i}`);
    const posts = [...ids, ...ids.filter((_, i) => i % 50 === 0)];
    const started = Date.now();

    // Act
    const answers = await inParallel(posts, 4, (orderId) =>
      postOrder(offline.url, anOrder(orderId), `corr-${orderId}`),
    );
    const posted = Date.now();
    await waitFor(allCaughtUp, { timeoutMs: 600_000, intervalMs: 1000, what: 'every consumer group to catch up' });
    const done = Date.now();

    // Assess: every POST accepted, with its correlation id
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    expect(answers.every((a, i) => a.body.correlationId === `corr-${posts[i]}`)).toBe(true);

    // queue: each order fulfilled exactly once by id; redeliveries and retried posts repeat the same id
    const events = await readEnvelopes<{ orderId: string }>(
      env.topic('order-events'),
      await recordCount(env.topic('order-events')),
      180_000,
    );
    const idsByOrder = new Map<string, Set<string>>();
    for (const e of events)
      idsByOrder.set(e.payload.orderId, (idsByOrder.get(e.payload.orderId) ?? new Set()).add(e.id));
    expect(idsByOrder.size).toBe(ORDER_COUNT);
    expect([...idsByOrder.values()].filter((s) => s.size !== 1)).toEqual([]);
    const duplicates = events.length - ORDER_COUNT;

    // queue: work spread over every partition
    const lag = await groupLag(env.topic('order-workers'), env.topic('orders'));
    expect(lag.map((p) => p.end > 0 && p.committed === p.end)).toEqual([true, true, true, true, true, true]);

    // queue: per-key order — the outcomes of a key's messages come in the order the messages have on
    // `orders` (first occurrence: a redelivered batch repeats what came before)
    const placed = await readEnvelopes<{ orderId: string }>(
      env.topic('orders'),
      await recordCount(env.topic('orders')),
    );
    const retried = new Set(ids.filter((_, i) => i % 50 === 0));
    for (const orderId of retried) {
      const inTopicOrder = placed
        .filter((p) => p.payload.orderId === orderId)
        .sort((a, b) => Number(a._record.offset) - Number(b._record.offset))
        .map((p) => p.id);
      const firstSeen = [...new Set(events.filter((e) => e.payload.orderId === orderId).map((e) => e.causationId))];
      expect(inTopicOrder.length).toBeGreaterThanOrEqual(2);
      expect(firstSeen).toEqual(inTopicOrder);
    }

    // fan-out + chaining: every listener saw every order, on the POST's correlation id, caused by its event
    const eventIds = new Set(events.map((e) => e.id));
    for (const listener of LISTENER_OUTPUTS) {
      const outputs = await readEnvelopes<{ orderId: string; listener: string }>(
        env.topic(TOPIC_NAMES[listener.topic]),
        await recordCount(env.topic(TOPIC_NAMES[listener.topic])),
        180_000,
      );
      expect(new Set(outputs.map((o) => o.payload.orderId)).size).toBe(ORDER_COUNT);
      expect(new Set(outputs.map((o) => o.id)).size).toBe(ORDER_COUNT);
      expect(outputs.filter((o) => o.correlationId !== `corr-${o.payload.orderId}`)).toEqual([]);
      expect(outputs.filter((o) => String(o._record.headers['correlation-id']) !== o.correlationId)).toEqual([]);
      expect(outputs.filter((o) => !eventIds.has(o.causationId!))).toEqual([]);
      expect(outputs.every((o) => o.payload.listener === listener.name)).toBe(true);
    }
    expect(events.filter((e) => e.correlationId !== `corr-${e.payload.orderId}`)).toEqual([]);

    // Avro: order-analytics was written in Avro (read above through the registry); record-revenue got each
    // fact decoded by the event source and booked every (fulfilled) order once by id, on its correlation id
    const booked = await ledger();
    expect(new Set(booked.map((l) => l.payload.orderId)).size).toBe(ORDER_COUNT);
    expect(new Set(booked.map((l) => l.id)).size).toBe(ORDER_COUNT);
    expect(
      booked.filter((l) => l.correlationId !== `corr-${l.payload.orderId}` || l.payload.revenueCents !== 1250),
    ).toEqual([]);

    process.stdout.write(
      `[patterns] ${posts.length} POSTs (${ORDER_COUNT} orders) in ${posted - started} ms; every group caught up ` +
        `${done - started} ms after the first POST; ${duplicates} duplicate order events absorbed\n`,
    );
  }, 1_800_000);

  it('poison records go to the dead-letter topic with the reason, and their partition goes on', async () => {
    // Prepare: a value that is not JSON and an order.placed that breaks the schema, then a good order
    // with the same key (so the same partition, after them)
    const producer = testKafka('test-poison').producer();
    await producer.connect();
    await producer.send({
      topic: env.topic('orders'),
      messages: [
        { key: 'poison-1', value: 'this is not JSON {', headers: { 'correlation-id': 'corr-poison-1' } },
        {
          key: 'poison-2',
          value: JSON.stringify({
            id: 'm-2',
            type: 'order.placed',
            occurredAt: new Date().toISOString(),
            correlationId: 'corr-poison-2',
            causationId: null,
            payload: { orderId: 'poison-2', items: [] },
          }),
          headers: { 'correlation-id': 'corr-poison-2' },
        },
      ],
    });
    await producer.disconnect();
    await placeOrder(anOrder('poison-2'), {
      publisher: runtime().publisher,
      correlationId: 'corr-after-poison',
      topic: env.topic('orders'),
    });
    // and an order that is rejected: its Avro fact says so, and the event source's filter keeps it from record-revenue
    await placeOrder(anOrder('rejected-1', { sku: 'discontinued-lamp' }), {
      publisher: runtime().publisher,
      correlationId: 'corr-rejected-1',
      topic: env.topic('orders'),
    });

    // Act
    await waitFor(allCaughtUp, { timeoutMs: 180_000, intervalMs: 500, what: 'every consumer group to catch up' });

    // Assess
    const dead = await readEnvelopes<{
      consumer: string;
      reason: { message: string };
      record: { topic: string; partition: number; offset: number; key: string; value: string };
    }>(env.topic('dead-letter'), 2);
    const byKey = new Map(dead.map((d) => [Buffer.from(d.payload.record.key, 'base64').toString(), d]));
    expect(byKey.get('poison-1')!.payload.reason.message).toMatch(/is not valid JSON/);
    expect(Buffer.from(byKey.get('poison-1')!.payload.record.value, 'base64').toString()).toBe('this is not JSON {');
    expect(byKey.get('poison-1')!.correlationId).toBe('corr-poison-1');
    expect(byKey.get('poison-2')!.payload.reason.message).toMatch(/is invalid: .*payload\.customerId/);
    expect(byKey.get('poison-2')!.payload.consumer).toBe('fulfil-order');
    expect(String(byKey.get('poison-2')!._record.headers['original-topic'])).toBe(env.topic('orders'));
    const events = await readEnvelopes<{ orderId: string }>(
      env.topic('order-events'),
      await recordCount(env.topic('order-events')),
    );
    expect(events.filter((e) => e.correlationId === 'corr-after-poison').map((e) => e.payload.orderId)).toEqual([
      'poison-2',
    ]);
    const facts = await readEnvelopes<{ orderId: string; outcome: string }>(
      env.topic(TOPIC_NAMES.orderAnalytics),
      await recordCount(env.topic(TOPIC_NAMES.orderAnalytics)),
    );
    expect(facts.filter((f) => f.payload.orderId === 'rejected-1').map((f) => f.payload.outcome)).toEqual(['rejected']);
    const booked = (await ledger()).map((l) => l.payload.orderId);
    expect(booked).toContain('poison-2');
    expect(booked).not.toContain('rejected-1');
  }, 300_000);
});
