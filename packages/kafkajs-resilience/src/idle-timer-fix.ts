/**
 * Importing this package stops kafkajs 2.2.4 from spinning a 1 ms timer on every idle connection.
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

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

const PATCHED = Symbol.for('kafkajs-resilience.requestQueueIdleTimerFix');

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
