import { ConfigResourceTypes } from 'kafkajs';
import { TOPIC_NAMES } from '../../../lib/kafka/topics';
import { LISTENERS } from '../../../lib/orders/listeners';
import { placeOrder } from '../../../lib/orders/place-order';
import { runtime } from '../../../lib/runtime';
import { waitFor, withAdmin } from '../../helpers/kafka';
import { startOffline, type OfflineProcess } from '../../helpers/offline';
import { anOrder, caughtUp, groupLag, postOrder, readEnvelopes, recordCount, usePrefixedTopics } from './harness';

/**
 * Faults through `serverless offline`: the broker refuses some outputs (topic max.message.bytes), which
 * the functions meet as a retriable publish error, until the test raises the limit ("the fault clears").
 * Ordinary order events are about 560 bytes; the faulty order's (64-character ids, 128-character
 * correlation id) about 950; every notification is over 200.
 */
const ORDER_EVENTS_LIMIT = '750';
const NOTIFICATIONS_LIMIT = '200';
const LISTENER_OUTPUTS = Object.values(LISTENERS);

async function raiseLimit(topic: string): Promise<void> {
  await withAdmin((admin) =>
    admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [{ name: 'max.message.bytes', value: '1048588' }],
        },
      ],
    }),
  );
}

describe('orders flow through serverless offline, with faults', () => {
  let env: Awaited<ReturnType<typeof usePrefixedTopics>>;
  let offline: OfflineProcess | undefined;
  const start = () =>
    startOffline({
      env: { KAFKA_TOPIC_PREFIX: env.prefix, LOG_LEVEL: 'error' },
      readyPattern: /kafka: ready: /,
      timeoutMs: 150_000,
    });

  beforeAll(async () => {
    env = await usePrefixedTopics('p4-faults', {
      'order-events': { 'max.message.bytes': ORDER_EVENTS_LIMIT },
      'customer-notifications': { 'max.message.bytes': NOTIFICATIONS_LIMIT },
    });
    offline = await start();
  }, 200_000);
  afterAll(async () => {
    await offline?.stop();
    await runtime().publisher.disconnect();
    await env?.cleanup();
  });

  /** On a timeout, say where every group stands and what the offline process printed last. */
  const explainOnTimeout = async (wait: () => Promise<unknown>) => {
    try {
      await wait();
    } catch (error) {
      const lag = await Promise.all(
        [['order-workers', 'orders'], ...LISTENER_OUTPUTS.map((l) => [l.name, 'order-events'])].map(
          async ([g, t]) => `${g}: ${JSON.stringify(await groupLag(env.topic(g!), env.topic(t!)))}`,
        ),
      );
      throw new Error(`${(error as Error).message}\n${lag.join('\n')}\n${offline?.output().slice(-4000)}`);
    }
  };
  const ordersOn = async (topic: string) =>
    new Set(
      (await readEnvelopes<{ orderId: string }>(env.topic(topic), await recordCount(env.topic(topic)))).map(
        (e) => e.payload.orderId,
      ),
    );
  const ids = Array.from({ length: 60 }, (_, i) => `n-${i}`);
  const faulty = 'f'.repeat(64);

  it('a failing partition and a failing listener hold only themselves; after the faults clear nothing is missing', async () => {
    // Prepare + Act: the faulty order first, then 60 ordinary ones over every partition
    const first = await postOrder(offline!.url, anOrder(faulty, { customerId: 'c'.repeat(64) }), 'x'.repeat(128));
    expect(first.status).toBe(202);
    for (const orderId of ids)
      expect((await postOrder(offline!.url, anOrder(orderId), `corr-${orderId}`)).status).toBe(202);

    // Assess: the queue goes on in every partition but the faulty one, held at the faulty record
    const blocked = await waitFor(
      async () => {
        const behind = (await groupLag(env.topic('order-workers'), env.topic('orders'))).filter(
          (p) => p.committed < p.end,
        );
        return behind.length === 1 ? behind[0] : undefined;
      },
      { timeoutMs: 480_000, intervalMs: 1000, what: 'every orders partition but one to be committed' },
    );
    expect(blocked!.committed).toBe(0);
    // the orders after the faulty one in its partition wait with it; all the others go through
    const healthy = ids.length + 1 - blocked!.end;
    expect(healthy).toBeGreaterThan(0);
    // the two healthy listeners see every published event while notify-customer keeps failing
    await explainOnTimeout(() =>
      waitFor(
        async () =>
          (await caughtUp(env.topic('audit-log'), env.topic('order-events'))) &&
          (await caughtUp(env.topic('update-analytics'), env.topic('order-events'))) &&
          (await recordCount(env.topic('order-events'))) >= healthy,
        { timeoutMs: 480_000, intervalMs: 1000, what: 'audit-log and update-analytics to catch up' },
      ),
    );
    expect((await ordersOn('order-audit')).size).toBe(healthy);
    expect((await ordersOn('order-analytics')).size).toBe(healthy);
    expect(await caughtUp(env.topic('notify-customer'), env.topic('order-events'))).toBe(false);
    expect(await recordCount(env.topic('customer-notifications'))).toBe(0);

    // Act: the faults clear
    await raiseLimit(env.topic('order-events'));
    await raiseLimit(env.topic('customer-notifications'));

    // Assess: everything arrives, everywhere
    await waitFor(
      async () =>
        (await caughtUp(env.topic('order-workers'), env.topic('orders'))) &&
        (await Promise.all(LISTENER_OUTPUTS.map((l) => caughtUp(env.topic(l.name), env.topic('order-events'))))).every(
          Boolean,
        ),
      { timeoutMs: 480_000, intervalMs: 1000, what: 'every group to catch up after the faults cleared' },
    );
    for (const topic of ['order-events', ...LISTENER_OUTPUTS.map((l) => TOPIC_NAMES[l.topic])]) {
      const seen = await ordersOn(topic);
      expect([faulty, ...ids].filter((id) => !seen.has(id))).toEqual([]);
    }
  }, 1_500_000);

  it('stopped consumers resume from their committed offsets: nothing missed, nothing replayed from the start', async () => {
    // Prepare: stop everything (Ctrl-C), then orders arrive while nothing runs
    await offline!.stop();
    offline = undefined;
    const notifiedBefore = await recordCount(env.topic('customer-notifications'));
    const later = Array.from({ length: 20 }, (_, i) => `later-${i}`);
    for (const orderId of later) {
      await placeOrder(anOrder(orderId), {
        publisher: runtime().publisher,
        correlationId: `corr-${orderId}`,
        topic: env.topic('orders'),
      });
    }

    // Act
    offline = await start();
    await waitFor(
      async () =>
        (await caughtUp(env.topic('order-workers'), env.topic('orders'))) &&
        (await Promise.all(LISTENER_OUTPUTS.map((l) => caughtUp(env.topic(l.name), env.topic('order-events'))))).every(
          Boolean,
        ),
      { timeoutMs: 480_000, intervalMs: 1000, what: 'every group to catch up after the restart' },
    );

    // Assess: the new orders went all the way; the old ones were not processed again
    const notifications = await readEnvelopes<{ orderId: string }>(
      env.topic('customer-notifications'),
      await recordCount(env.topic('customer-notifications')),
    );
    expect(notifications.length).toBe(notifiedBefore + later.length);
    expect(later.filter((id) => !notifications.some((n) => n.payload.orderId === id))).toEqual([]);
    for (const topic of ['order-audit', 'order-analytics']) {
      const seen = await ordersOn(topic);
      expect(later.filter((id) => !seen.has(id))).toEqual([]);
    }
  }, 1_500_000);
});
