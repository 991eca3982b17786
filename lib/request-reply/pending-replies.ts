import type { IHeaders } from 'kafkajs';

/**
 * A reply as the requester received it. `status` is what judgeReply (./protocol.ts) reads: x-reply-status,
 * 200 for a plain reply, undefined for an unreadable status or an error marked the sender's framework's way.
 */
export interface Reply {
  correlationId: string;
  status: number | undefined;
  value: Buffer | null;
  headers: IHeaders;
  partition: number;
  offset: string;
}

/**
 * What became of a record read from the reply partition:
 * - `replied`: it answered a waiting request, which is resolved with it;
 * - `late`: its request had already timed out (or its publish failed): dropped;
 * - `duplicate`: its request was already answered: dropped;
 * - `unknown`: no request of this container ever had its correlation id: dropped.
 */
export type Settlement = 'replied' | 'late' | 'duplicate' | 'unknown';

export interface PendingCounts {
  /** requests waiting for their reply right now */
  pending: number;
  replied: number;
  timedOut: number;
  late: number;
  duplicate: number;
  unknown: number;
}

export interface PendingReplies {
  /**
   * Wait for the reply to `correlationId`: resolves with it, or rejects with `timeoutError()` after `waitMs`.
   * Register BEFORE the request is sent, so that a reply overtaking the send's acknowledgement finds it.
   * The promise never causes an unhandled rejection by itself; the caller awaits it.
   */
  register(correlationId: string, waitMs: number, timeoutError: () => Error): Promise<Reply>;
  /** Hand a reply over; `reply` is only built when a request is waiting for it. */
  settle(correlationId: string, reply: () => Reply): Settlement;
  /**
   * The request could not be sent: stop waiting (without settling the promise; the caller reports the
   * send's error). The record may still have been written, so a reply to it is counted late, not unknown.
   */
  abandon(correlationId: string): boolean;
  /** Reject every waiting request with `error` (shutdown). */
  rejectAll(error: Error): void;
  counts(): PendingCounts;
}

/** Insertion-ordered set that forgets its oldest entries beyond `limit`. */
class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly limit: number) {}
  add(item: string): void {
    this.items.add(item);
    if (this.items.size > this.limit) this.items.delete(this.items.values().next().value!);
  }
  has(item: string): boolean {
    return this.items.has(item);
  }
}

interface Waiting {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The requests of one container that wait for their reply, keyed by correlation id, and a bounded
 * memory of the ids already timed out or answered, so that a late or duplicate reply is told apart from
 * one this container never asked for. A reply only ever resolves the request whose id it carries.
 *
 * @example
 * const pending = createPendingReplies({ memory: 10_000 });
 * const reply = pending.register(id, 5000, () => new ReplyTimeoutError(5000, id));
 * pending.settle(id, () => replyFrom(record)); // 'replied'
 */
export function createPendingReplies({ memory = 10_000 }: { memory?: number } = {}): PendingReplies {
  const waiting = new Map<string, Waiting>();
  const expired = new BoundedSet(memory);
  const answered = new BoundedSet(memory);
  const counts = { replied: 0, timedOut: 0, late: 0, duplicate: 0, unknown: 0 };

  return {
    register(correlationId, waitMs, timeoutError) {
      const reply = new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (!waiting.delete(correlationId)) return;
          expired.add(correlationId);
          counts.timedOut += 1;
          reject(timeoutError());
        }, waitMs);
        waiting.set(correlationId, { resolve, reject, timer });
      });
      // the timeout may reject while the caller is still awaiting the send: not an unhandled rejection
      reply.catch(() => undefined);
      return reply;
    },
    settle(correlationId, reply) {
      const entry = waiting.get(correlationId);
      if (!entry) {
        const settlement = expired.has(correlationId) ? 'late' : answered.has(correlationId) ? 'duplicate' : 'unknown';
        counts[settlement] += 1;
        return settlement;
      }
      waiting.delete(correlationId);
      clearTimeout(entry.timer);
      answered.add(correlationId);
      counts.replied += 1;
      entry.resolve(reply());
      return 'replied';
    },
    abandon(correlationId) {
      const entry = waiting.get(correlationId);
      if (!entry) return false;
      waiting.delete(correlationId);
      clearTimeout(entry.timer);
      expired.add(correlationId);
      return true;
    },
    rejectAll(error) {
      for (const [id, entry] of waiting) {
        clearTimeout(entry.timer);
        waiting.delete(id);
        entry.reject(error);
      }
    },
    counts: () => ({ pending: waiting.size, ...counts }),
  };
}
