import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QuoteRequestSchema, priceQuote } from '../../../lib/quotes/quote';
import { BROKERS, createTopic, deleteTopics, uniqueName, waitFor } from '../../helpers/kafka';
import { startResponder } from './harness';

interface Line {
  id?: string;
  ready?: boolean;
  sent?: boolean;
  status?: number;
  error?: string;
  body?: { productId?: string };
  stats?: { joins: number; late: number; duplicate: number; pending: number };
}

/**
 * Lambda freezes a container between invocations; its consumer misses heartbeats, is evicted from its
 * group and rejoins when thawed. Here the requester runs in its own process, frozen with SIGSTOP for
 * longer than its group session (6 s), while the reply to its pending request is written.
 */
describe('a frozen requester container', () => {
  test('thawed after its session expired: it rejoins, still receives the reply written while frozen, and keeps answering', async () => {
    const requests = uniqueName('rr-frozen-requests');
    const replies = uniqueName('rr-frozen-replies');
    await createTopic(requests, 2);
    await createTopic(replies, 2);
    let slowStarted = false;
    const responder = await startResponder({
      requestTopic: requests,
      groupId: uniqueName('rr-frozen-responder'),
      allowedReplyTopics: [replies],
      schema: QuoteRequestSchema,
      handle: async ({ body }) => {
        if (body.productId === 'slow') {
          slowStarted = true;
          await sleep(3000); // the reply is written while the requester is frozen
        }
        return priceQuote(body);
      },
    });
    const lines: Line[] = [];
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(__dirname, 'frozen-requester.ts'), replies, requests],
      { cwd: resolve(__dirname, '..', '..', '..'), env: { ...process.env, KAFKA_BROKERS: BROKERS.join(',') } },
    );
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as Line);
    });
    const answer = (id: string) =>
      waitFor(() => lines.find((l) => l.id === id && !l.sent), { timeoutMs: 90_000, what: `the answer to ${id}` });
    const ask = (id: string, productId: string, timeoutMs = 60_000) =>
      child.stdin!.write(`${JSON.stringify({ id, productId, timeoutMs })}\n`);
    try {
      await waitFor(() => lines.some((l) => l.ready), { timeoutMs: 60_000, what: 'the requester to be ready' });
      ask('warm', 'warm');
      expect(await answer('warm')).toMatchObject({ status: 200, body: { productId: 'warm' } });

      ask('slow', 'slow');
      await waitFor(() => slowStarted, { what: 'the responder to start the slow request' });
      child.kill('SIGSTOP');
      const frozenAt = Date.now();
      await waitFor(() => responder.responder.stats().replied >= 2, { what: 'the reply written while frozen' });
      // frozen well past the 6 s session: the broker evicts the listener from its group
      await sleep(Math.max(0, 15_000 - (Date.now() - frozenAt)));
      child.kill('SIGCONT');

      expect(await answer('slow')).toMatchObject({ status: 200, body: { productId: 'slow' } });
      let round = 0;
      const last = await waitFor(
        async () => {
          round += 1;
          ask(`after-${round}`, `after-${round}`, 30_000);
          const line = await answer(`after-${round}`);
          expect(line).toMatchObject({ status: 200, body: { productId: `after-${round}` } });
          return line!.stats!.joins >= 2 ? line : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, what: 'the listener to have rejoined' },
      );
      expect(last!.stats).toMatchObject({ pending: 0, late: 0, duplicate: 0 });
    } finally {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await responder.stop();
      await deleteTopics([requests, replies]);
    }
  });
});
