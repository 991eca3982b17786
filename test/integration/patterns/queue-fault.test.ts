import { ConfigResourceTypes } from 'kafkajs';
import { handler as fulfilOrder } from '../../../functions/fulfil-order/handler';
import { placeOrder } from '../../../lib/orders/place-order';
import { runtime } from '../../../lib/runtime';
import { waitFor, withAdmin } from '../../helpers/kafka';
import {
  anOrder,
  caughtUp,
  groupLag,
  readEnvelopes,
  runFunction,
  usePrefixedTopics,
  type RunningFunction,
} from './harness';

/** Normal order events are about 560 bytes; the faulty order's (long ids) about 950: the broker refuses it. */
const FAULT_LIMIT = '750';

describe('queue worker fulfil-order when the broker cannot take its output (lib + real broker)', () => {
  let env: Awaited<ReturnType<typeof usePrefixedTopics>>;
  let worker: RunningFunction | undefined;

  beforeAll(async () => {
    env = await usePrefixedTopics('p4-fault', { 'order-events': { 'max.message.bytes': FAULT_LIMIT } });
  });
  afterAll(async () => {
    await worker?.stop();
    await runtime().publisher.disconnect();
    await env.cleanup();
  });

  it('a failing partition waits at the failed record, the others go on, and nothing is missing after the fault clears', async () => {
    // Prepare: the faulty order first, then 60 ordinary ones over every partition
    const { publisher } = runtime();
    const faulty = 'f'.repeat(64);
    const ids = Array.from({ length: 60 }, (_, i) => `r-${i}`);
    await placeOrder(anOrder(faulty, { customerId: 'c'.repeat(64) }), {
      publisher,
      correlationId: 'x'.repeat(128),
      topic: env.topic('orders'),
    });
    for (const orderId of ids) {
      await placeOrder(anOrder(orderId), { publisher, correlationId: `corr-${orderId}`, topic: env.topic('orders') });
    }
    const group = env.topic('order-workers');

    // Act
    worker = await runFunction(fulfilOrder, { topic: env.topic('orders'), groupId: group });

    // Assess: every partition but the faulty one is done while the fault lasts
    const blocked = await waitFor(
      async () => {
        const behind = (await groupLag(group, env.topic('orders'))).filter((p) => p.committed < p.end);
        return behind.length === 1 && worker!.failedInvocations() >= 2 ? behind[0] : undefined;
      },
      { timeoutMs: 90_000, what: 'every partition but one to be committed, and the failed record retried' },
    );
    // held exactly at the faulty record (the first of its partition): nothing after it was skipped
    expect(blocked!.committed).toBe(0);
    const published = (await groupLag(`${group}-unused`, env.topic('order-events'))).reduce((n, p) => n + p.end, 0);
    const during = await readEnvelopes<{ orderId: string }>(env.topic('order-events'), published);
    expect(new Set(during.map((e) => e.payload.orderId)).size).toBeGreaterThan(0);
    expect(during.some((e) => e.payload.orderId === faulty)).toBe(false);

    // Act: the fault clears
    await withAdmin((admin) =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: env.topic('order-events'),
            configEntries: [{ name: 'max.message.bytes', value: '1048588' }],
          },
        ],
      }),
    );
    await waitFor(() => caughtUp(group, env.topic('orders')), {
      timeoutMs: 90_000,
      what: 'the blocked partition to catch up',
    });

    // Assess: nothing missing, each order once by id
    const total = (await groupLag(`${group}-unused`, env.topic('order-events'))).reduce((sum, p) => sum + p.end, 0);
    const events = await readEnvelopes<{ orderId: string }>(env.topic('order-events'), total);
    const fulfilled = new Set(events.map((e) => e.payload.orderId));
    expect([faulty, ...ids].filter((id) => !fulfilled.has(id))).toEqual([]);
    expect(new Set(events.map((e) => e.id)).size).toBe(ids.length + 1);
    expect(events.find((e) => e.payload.orderId === faulty)!.correlationId).toBe('x'.repeat(128));
  });
});
