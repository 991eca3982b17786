/**
 * Two workarounds for kafkajs 2.2.4 that the event source needs and that any kafkajs 2.2.4 user may
 * import from `serverless-offline-kafka/kafkajs-fixes` (this module imports nothing but kafkajs).
 *
 * 1. Importing this module stops kafkajs from spinning a 1 ms timer on every idle connection.
 *
 * After a connection's first response, kafkajs's RequestQueue re-arms `setTimeout(check, throttledUntil - now)`
 * after every check, whether or not a request is waiting; unthrottled, that delay is negative, so each
 * connection wakes its thread about 1,000 times a second for nothing (tulios/kafkajs#1556 and #1704; the
 * fixes #1667 and #1768 were never released). Under `serverless offline` every warm function instance
 * has its own producer and consumer connections: 22 idle instances kept 0.6 of a 2-core machine's
 * CPU busy, and under load the spinning starved the work itself.
 *
 * The fix skips the timer when nothing is pending and the queue is not throttled, which is what the
 * timer is for: a request that cannot be sent at once is queued by `push`, which arms the timer itself,
 * and every response or timeout checks the queue again. Applied once per process (or bundle), before
 * any connection exists; importing this module is enough.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

const PATCHED = Symbol.for('serverless-offline-kafka.requestQueueIdleTimerFix');

export function applyKafkajsIdleTimerFix(): boolean {
  // kafkajs has no `exports` map, so its internals resolve (and are bundled) as the same module it uses
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as {
    prototype: RequestQueueInternals & { [PATCHED]?: true };
  };
  const proto = RequestQueue.prototype;
  if (proto[PATCHED]) return true;
  const original = proto.scheduleCheckPendingRequests;
  if (typeof original !== 'function') return false;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    original.call(this);
  };
  proto[PATCHED] = true;
  return true;
}

applyKafkajsIdleTimerFix();

/**
 * 2. Wait until every partition of the topics has a leader. kafkajs's own `waitForLeaders` gives up as
 * soon as the broker answers UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created (KRaft publishes
 * a new topic to the broker's metadata a moment later), which on a busy machine fails a start or a test.
 *
 * @example
 * await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 6 }], waitForLeaders: false });
 * await waitForTopicLeaders(admin, ['orders']);
 */
export async function waitForTopicLeaders(admin: Admin, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const ready = (name: string) => {
        const partitions = topics.find((t) => t.name === name)?.partitions ?? [];
        return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
      };
      if (names.every(ready)) return;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error;
    }
    if (Date.now() + wait > deadline) {
      throw new Error(`the topics ${names.join(', ')} still have partitions without a leader after ${timeoutMs} ms`);
    }
    await sleep(wait);
  }
}
