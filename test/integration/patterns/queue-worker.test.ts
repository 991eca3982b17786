import { handler as fulfilOrder } from '../../../functions/fulfil-order/handler';
import { placeOrder } from '../../../lib/orders/place-order';
import { runtime } from '../../../lib/runtime';
import { waitFor } from '../../helpers/kafka';
import {
  anOrder,
  caughtUp,
  groupLag,
  readEnvelopes,
  runFunction,
  usePrefixedTopics,
  waitForMembers,
  type RunningFunction,
} from './harness';

/**
 * The queue pattern with the real fulfil-order handler, fed by a plain kafkajs consumer that builds the
 * AWS event (the serverless offline version is in offline-flow.test.ts).
 */
describe('queue worker fulfil-order (lib + real broker)', () => {
  let env: Awaited<ReturnType<typeof usePrefixedTopics>>;
  const running: RunningFunction[] = [];

  beforeAll(async () => {
    env = await usePrefixedTopics('p4-queue');
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await runtime().publisher.disconnect();
    await env.cleanup();
  });

  it('two replicas in one group fulfil every order once by id, over every partition, in per-key order', async () => {
    // Prepare: two replicas in one group, then 300 orders, 30 of them posted twice (a client retrying)
    const group = env.topic('order-workers');
    running.push(await runFunction(fulfilOrder, { topic: env.topic('orders'), groupId: group }));
    running.push(await runFunction(fulfilOrder, { topic: env.topic('orders'), groupId: group }));
    await waitForMembers(group, 2);
    const { publisher } = runtime();
    const ids = Array.from({ length: 300 }, (_, i) => `q-${i}`);
    const retried = ids.filter((_, i) => i % 10 === 0);
    const placed: { orderId: string; messageId: string }[] = [];
    for (const orderId of [...ids, ...retried]) {
      placed.push(
        await placeOrder(anOrder(orderId), { publisher, correlationId: `corr-${orderId}`, topic: env.topic('orders') }),
      );
    }

    // Act
    await waitFor(() => caughtUp(group, env.topic('orders')), {
      timeoutMs: 90_000,
      what: 'order-workers to commit every order',
    });

    // Assess
    const events = await readEnvelopes<{ orderId: string }>(env.topic('order-events'), placed.length);
    const byOrder = new Map<string, Set<string>>();
    for (const e of events) byOrder.set(e.payload.orderId, (byOrder.get(e.payload.orderId) ?? new Set()).add(e.id));
    expect([...byOrder.keys()].sort()).toEqual([...ids].sort());
    expect([...byOrder.values()].every((eventIds) => eventIds.size === 1)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(ids.length);
    for (const e of events) expect(e.correlationId).toBe(`corr-${e.payload.orderId}`);

    // every partition had work, and both replicas did some of it
    const lag = await groupLag(group, env.topic('orders'));
    expect(lag.map((p) => p.end > 0 && p.committed === p.end)).toEqual([true, true, true, true, true, true]);
    expect(running.map((r) => r.invocations() > 0)).toEqual([true, true]);
    await Promise.all(running.splice(0).map((r) => r.stop()));

    // per-key order: the outcome events of a retried order follow the order its two messages were placed in
    for (const orderId of retried) {
      const placedOrder = placed.filter((p) => p.orderId === orderId).map((p) => p.messageId);
      const caused = events.filter((e) => e.payload.orderId === orderId).map((e) => e.causationId);
      expect(caused.filter((c, i) => c !== caused[i - 1])).toEqual(placedOrder);
    }
  });
});
