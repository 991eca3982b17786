/**
 * docs/patterns.md, "Add a new worker or listener": the handler written there, step by step, run
 * against the real broker. If this test changes, change the walkthrough with it.
 */
import { handler as fulfilOrder } from '../../../functions/fulfil-order/handler';
// step 2: the handler (functions/ship-order/handler.ts in the walkthrough)
import { kafkaEnvelopeHandler } from '../../../lib/handlers';
import { publishChained } from '../../../lib/kafka/chain';
import { ORDER_FULFILLED, OrderOutcomeEventSchema } from '../../../lib/orders/events';
import { placeOrder } from '../../../lib/orders/place-order';
import { runtime } from '../../../lib/runtime';
import { waitFor } from '../../helpers/kafka';
import {
  anOrder,
  caughtUp,
  readEnvelopes,
  recordCount,
  runFunction,
  usePrefixedTopics,
  type RunningFunction,
} from './harness';

const shipOrder = kafkaEnvelopeHandler({
  name: 'ship-order',
  schema: OrderOutcomeEventSchema,
  reportBatchItemFailures: true,
  handle: async (event, rt) => {
    if (event.type !== ORDER_FULFILLED) return; // only fulfilled orders are shipped
    await publishChained(rt, {
      topic: rt.topic('shipments'),
      key: event.payload.orderId,
      cause: event,
      step: 'ship-order',
      type: 'order.shipped',
      payload: { orderId: event.payload.orderId, carrier: 'post' },
    });
  },
});

describe('walkthrough: a new listener ship-order', () => {
  let env: Awaited<ReturnType<typeof usePrefixedTopics>>;
  const running: RunningFunction[] = [];

  beforeAll(async () => {
    // step 1: its output topic (declared in lib/kafka/topics.ts in the walkthrough)
    env = await usePrefixedTopics('p4-walk', {}, [{ name: 'shipments', partitions: 6 }]);
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await runtime().publisher.disconnect();
    await env.cleanup();
  });

  it('gets every order-events record in its own group and ships the fulfilled orders, once each by id', async () => {
    // Prepare: 20 orders, 5 of them rejected (discontinued sku)
    const { publisher } = runtime();
    const ids = Array.from({ length: 20 }, (_, i) => `w-${i}`);
    for (const [i, orderId] of ids.entries()) {
      const order = anOrder(orderId, i < 5 ? { sku: 'discontinued-kettle' } : {});
      await placeOrder(order, { publisher, correlationId: `corr-${orderId}`, topic: env.topic('orders') });
    }
    running.push(await runFunction(fulfilOrder, { topic: env.topic('orders'), groupId: env.topic('order-workers') }));

    // Act: step 3, its own consumer group (consumerGroupId in serverless.yml)
    running.push(await runFunction(shipOrder, { topic: env.topic('order-events'), groupId: env.topic('ship-order') }));
    await waitFor(
      async () =>
        (await recordCount(env.topic('order-events'))) >= ids.length &&
        (await caughtUp(env.topic('ship-order'), env.topic('order-events'))),
      { timeoutMs: 120_000, what: 'ship-order to catch up' },
    );

    // Assess: step 4, what it did is on its topic, on the chain's correlation id
    const shipments = await readEnvelopes<{ orderId: string }>(
      env.topic('shipments'),
      await recordCount(env.topic('shipments')),
    );
    expect(new Set(shipments.map((s) => s.payload.orderId))).toEqual(new Set(ids.slice(5)));
    expect(new Set(shipments.map((s) => s.id)).size).toBe(15);
    expect(shipments.every((s) => s.correlationId === `corr-${s.payload.orderId}` && s.type === 'order.shipped')).toBe(
      true,
    );
  });
});
