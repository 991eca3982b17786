import { Kafka, logLevel } from 'kafkajs';
import { AppError } from '../../../lib/errors';
import { createTopics } from 'kafkajs-resilience';
import { QuoteRequestSchema, priceQuote } from '../../../lib/quotes/quote';
import { ReplyListenerUnavailableError } from '../../../lib/request-reply/errors';
import type { Reply } from '../../../lib/request-reply/requester';
import { uniqueName, waitFor } from '../../helpers/kafka';
import { freePort } from '../../helpers/offline';
import { startRequester, startResponder } from './harness';
import { jarsAvailable, startSecondBroker, type SecondBroker } from './second-broker';

const body = (reply: Reply) => JSON.parse(reply.value!.toString('utf8')) as Record<string, unknown>;

describe('request-reply when the broker is unavailable', () => {
  test('no broker at all: the request fails with a clear 503, nothing is left pending', async () => {
    const port = await freePort(); // nothing listens there
    const { requester, stop } = startRequester('quote-replies', {}, [`127.0.0.1:${port}`]);
    try {
      const error = await requester
        .request({ topic: 'quote-requests', value: { productId: 'p', quantity: 1 }, timeoutMs: 3000 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReplyListenerUnavailableError);
      expect((error as AppError).statusCode).toBe(503);
      expect((error as AppError).message).toMatch(/quote-replies|broker/);
      expect(requester.stats()).toMatchObject({ pending: 0, sent: 0 });
    } finally {
      await stop();
    }
  });

  // needs the broker jars that `npm run broker -- up` caches in jar mode (a Docker-only machine has none)
  const withJars = jarsAvailable() ? test : test.skip;
  withJars(
    'broker restarted during a run: 503/504 while it is down, success afterwards without restarting anything',
    async () => {
      const broker: SecondBroker = await startSecondBroker();
      const cleanups: (() => Promise<void>)[] = [() => broker.destroy()];
      try {
        const requests = uniqueName('rr-restart-requests');
        const replies = uniqueName('rr-restart-replies');
        const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        await createTopics(admin, [
          { topic: requests, numPartitions: 2 },
          { topic: replies, numPartitions: 2 },
        ]);
        await admin.disconnect();

        const responder = await startResponder({
          requestTopic: requests,
          groupId: uniqueName('rr-restart-responder'),
          allowedReplyTopics: [replies],
          schema: QuoteRequestSchema,
          handle: async ({ body: request }) => priceQuote(request),
          brokers: [broker.address],
        });
        cleanups.unshift(() => responder.stop());
        const { requester, stop } = startRequester(replies, {}, [broker.address]);
        cleanups.unshift(stop);

        const ask = (productId: string) =>
          requester.request({ topic: requests, value: { productId, quantity: 2 }, timeoutMs: 3000 });
        expect(body(await ask('before'))).toMatchObject({ productId: 'before' });

        await broker.stop();
        const restartedAt = Date.now();
        const down = await Promise.allSettled([ask('down-1'), ask('down-2'), ask('down-3')]);
        for (const outcome of down) {
          expect(outcome.status).toBe('rejected');
          const status = ((outcome as PromiseRejectedResult).reason as AppError).statusCode;
          expect([503, 504]).toContain(status);
        }
        expect(requester.stats().pending).toBe(0);

        await broker.start();
        // the same requester and responder recover on their own: keep asking until one answer comes
        const first = (await waitFor(() => ask('after-restart').catch(() => undefined), {
          timeoutMs: 90_000,
          intervalMs: 500,
          what: 'a reply after the broker restart',
        }))!;
        expect(body(first)).toMatchObject({ productId: 'after-restart' });
        console.info(`request-reply answered again ${Date.now() - restartedAt} ms after the broker was stopped`);
        const more = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(`after-${i}`)));
        more.forEach((reply, i) => expect(body(reply)).toMatchObject({ productId: `after-${i}` }));
        expect(requester.stats()).toMatchObject({ pending: 0, duplicate: 0 });
        expect(requester.stats().joins).toBeGreaterThan(1);
      } finally {
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      }
    },
  );
});
