import { randomInt, randomUUID } from 'node:crypto';
import {
  AssignerProtocol,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type Kafka,
  type PartitionAssigner,
} from 'kafkajs';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { ReplyListenerUnavailableError, ReplyTimeoutError, kafkaCorrelationHeaders } from './errors';
import {
  JSON_CONTENT_TYPE,
  RR_HEADERS,
  decodeReplyStatus,
  encodeReplyPartition,
  lastHeader,
  type ReplyPartitionFormat,
} from './protocol';
import type { RrTransport } from './transport';

/** A reply as the requester received it; `status` is undefined when the reply broke the protocol. */
export interface Reply {
  correlationId: string;
  status: number | undefined;
  value: Buffer | null;
  headers: IHeaders;
  partition: number;
  offset: string;
}

export interface RequestOptions {
  /** the request topic */
  topic: string;
  /** JSON-serialisable request body (or raw bytes) */
  value: unknown;
  /** the business key (ordering on the request topic); default: the correlation id */
  key?: string;
  /** how long to wait for the reply; default: the requester's `timeoutMs` */
  timeoutMs?: number;
  /** extra request headers (e.g. the HTTP caller's x-correlation-id) */
  headers?: Record<string, string>;
}

/** What the requester counted since the container started: what a user reads to see replies being dropped. */
export interface RequesterStats {
  /** requests waiting for their reply right now */
  pending: number;
  sent: number;
  replied: number;
  timedOut: number;
  /** the request could not be published (503) */
  publishFailed: number;
  /** replies to requests that had already timed out: dropped */
  late: number;
  /** second replies to a request already answered: dropped */
  duplicate: number;
  /** replies this requester never asked for (another container sharing the reply partition, or garbage): dropped */
  unknown: number;
  /** times the reply listener (re)joined and was positioned */
  joins: number;
}

export interface Requester {
  /**
   * Position the reply listener on its reply partition (idempotent). Called at container init so the
   * first request does not pay for it; every request also awaits it within its own deadline.
   */
  start(timeoutMs?: number): Promise<void>;
  /** Publish a request and resolve with its reply; ReplyTimeoutError (504), ReplyListenerUnavailableError or BrokerUnavailableError (503). */
  request(options: RequestOptions): Promise<Reply>;
  stats(): RequesterStats;
  /** the reply partition this container reads, once started */
  replyPartition(): number | undefined;
  /** Fail every pending request, leave the group, disconnect the listener. */
  stop(): Promise<void>;
}

export interface RequesterOptions {
  kafka: Kafka;
  transport: RrTransport;
  logger: Logger;
  replyTopic: string;
  /** default timeout for a reply (REPLY_TIMEOUT_MS, default 5 s) */
  timeoutMs: number;
  /** the reply partition to read; default: one chosen at random at start */
  replyPartition?: number;
  /** how `kafka_replyPartition` is written: `int32` (default; Spring, this project) or `decimal` (NestJS responders) */
  replyPartitionFormat?: ReplyPartitionFormat;
  /** prefix of the listener's own consumer group id (unique per container) */
  groupIdPrefix: string;
  /**
   * the listener's group session (default 30 s): a container frozen longer than this is evicted from its
   * group and rejoins when thawed, resuming from the last offset it saw + 1
   */
  sessionTimeoutMs?: number;
  /** how many ids of timed-out and answered requests are remembered to tell late/duplicate replies apart */
  memory?: number;
}

const ASSIGNER_NAME = 'RequestReplyOwnPartition';

/**
 * kafkajs 2.2.4 has no `assign()` (tulios/kafkajs#373). The listener joins a consumer group of its own
 * (one member) with this assigner, which hands the member exactly the partition it put in its
 * subscription metadata. No other container is ever in the group, so nothing rebalances it away.
 */
function ownPartitionAssigner(partition: number): PartitionAssigner {
  return () => ({
    name: ASSIGNER_NAME,
    version: 1,
    async assign({ members, topics }) {
      return members.map((member) => {
        const { userData } = AssignerProtocol.MemberMetadata.decode(member.memberMetadata) ?? { userData: null };
        const wanted = userData && userData.length === 4 ? userData.readInt32BE(0) : partition;
        return {
          memberId: member.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: Object.fromEntries(topics.map((topic) => [topic, [wanted]])),
            userData: Buffer.alloc(0),
          }),
        };
      });
    },
    protocol({ topics }) {
      return {
        name: ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: encodeReplyPartition(partition),
        }),
      };
    },
  });
}

/** Insertion-ordered set that forgets its oldest entries beyond `limit`. */
class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly limit: number) {}
  add(item: string): void {
    this.items.add(item);
    if (this.items.size > this.limit) this.items.delete(this.items.values().next().value!);
  }
  delete(item: string): boolean {
    return this.items.delete(item);
  }
  has(item: string): boolean {
    return this.items.has(item);
  }
}

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The requester side of request-reply: ONE reply listener per container, reading one reply partition
 * through a consumer group of its own, and a pending map keyed by correlation id.
 *
 * - The listener's start offset is the partition's end offset read BEFORE the first request is sent,
 *   and it is set with `seek` before the first fetch: a reply cannot be missed, however slow the join.
 * - After any rejoin (a frozen container thawed, the broker restarted) it seeks to the last offset it
 *   saw + 1. Offsets are never committed: the group leaves nothing behind on the broker.
 * - The pending entry is registered before the send, removed on reply, timeout or publish error.
 * - Late, duplicate and unknown replies are dropped and counted (`stats()`).
 *
 * @example
 * const requester = createRequester({ kafka, transport, logger, replyTopic: 'quote-replies', timeoutMs: 5000, groupIdPrefix: 'svc' });
 * const reply = await requester.request({ topic: 'quote-requests', value: { productId: 'p-1', quantity: 2 } });
 */
export function createRequester(options: RequesterOptions): Requester {
  const { kafka, transport, logger, replyTopic } = options;
  const pending = new Map<string, Pending>();
  const expired = new BoundedSet(options.memory ?? 10_000);
  const answered = new BoundedSet(options.memory ?? 10_000);
  const counters = { sent: 0, replied: 0, timedOut: 0, publishFailed: 0, late: 0, duplicate: 0, unknown: 0, joins: 0 };

  let partition: number | undefined;
  /** the next offset to read after a rejoin: last offset seen + 1 (or the start offset) */
  let nextOffset: string | undefined;
  let consumer: Consumer | undefined;
  let starting: Promise<void> | undefined;
  let stopped = false;

  const onReply = (message: EachBatchPayload['batch']['messages'][number], p: number) => {
    const idBytes = lastHeader(message.headers?.[RR_HEADERS.correlationId]);
    const correlationId = idBytes?.toString('utf8') ?? '';
    const entry = pending.get(correlationId);
    if (!entry) {
      if (expired.has(correlationId)) {
        counters.late += 1;
        logger.info(
          { kafkaCorrelationId: correlationId, replyTopic, partition: p },
          'late reply dropped: its request had timed out',
        );
      } else if (answered.has(correlationId)) {
        counters.duplicate += 1;
        logger.info({ kafkaCorrelationId: correlationId, replyTopic, partition: p }, 'duplicate reply dropped');
      } else {
        // another container reading the same partition, or a record that is not a reply to anyone here
        counters.unknown += 1;
        logger.debug(
          { kafkaCorrelationId: correlationId, replyTopic, partition: p },
          'reply for an unknown request dropped',
        );
      }
      return;
    }
    pending.delete(correlationId);
    clearTimeout(entry.timer);
    answered.add(correlationId);
    counters.replied += 1;
    entry.resolve({
      correlationId,
      status: decodeReplyStatus(lastHeader(message.headers?.[RR_HEADERS.replyStatus])),
      value: message.value,
      headers: message.headers ?? {},
      partition: p,
      offset: message.offset,
    });
  };

  const launch = async (): Promise<void> => {
    const ends = await transport.endOffsets(replyTopic).catch((error: unknown) => {
      throw new ReplyListenerUnavailableError(
        `cannot read the reply topic "${replyTopic}" (${(error as Error).message}); is the broker reachable and the topic created?`,
        error,
      );
    });
    if (ends.size === 0) throw new ReplyListenerUnavailableError(`the reply topic "${replyTopic}" has no partitions`);
    partition ??= options.replyPartition ?? randomInt(ends.size);
    if (!ends.has(partition)) {
      throw new ReplyListenerUnavailableError(`the reply topic "${replyTopic}" has no partition ${partition}`);
    }
    nextOffset ??= ends.get(partition)!;
    const mine = partition;

    const listener = kafka.consumer({
      groupId: `${options.groupIdPrefix}.reply.${replyTopic}.${randomUUID()}`,
      partitionAssigners: [ownPartitionAssigner(mine)],
      allowAutoTopicCreation: false,
      // a reply wakes the long poll at once; the wait only bounds how often heartbeats are sent when idle
      maxWaitTimeInMs: 1000,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
      retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 2000, restartOnFailure: async () => false },
    });
    let joined!: () => void;
    let failed!: (error: Error) => void;
    const positioned = new Promise<void>((resolve, reject) => {
      joined = resolve;
      failed = reject;
    });
    positioned.catch(() => undefined);
    listener.on(listener.events.GROUP_JOIN, ({ payload }) => {
      if (!payload.memberAssignment[replyTopic]?.includes(mine)) return;
      // applied before the first fetch of this (re)join: no reply is skipped, none delivered twice
      listener.seek({ topic: replyTopic, partition: mine, offset: nextOffset! });
      counters.joins += 1;
      logger.debug(
        { replyTopic, partition: mine, offset: nextOffset, joins: counters.joins },
        'reply listener positioned',
      );
      joined();
    });
    listener.on(listener.events.CRASH, ({ payload }) => {
      logger.warn({ err: payload.error, replyTopic }, 'reply listener crashed; starting a new one');
      if (consumer !== listener) return;
      // Not kafkajs's own restart (restartOnFailure below): it rejoins the SAME group under a new member
      // id and, after a broker restart, waits a whole session timeout for the old member to expire. A
      // group with a new id is joined at once; it carries no state (offsets are never committed) and
      // resumes from nextOffset.
      consumer = undefined;
      starting = undefined;
      failed(new ReplyListenerUnavailableError(`the reply listener stopped: ${payload.error.message}`, payload.error));
      void listener.disconnect().catch(() => undefined);
      relaunchSoon();
    });
    consumer = listener;
    try {
      await listener.connect();
      await listener.subscribe({ topic: replyTopic });
      await listener.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            onReply(message, batch.partition);
            nextOffset = (BigInt(message.offset) + 1n).toString();
          }
        },
      });
    } catch (error) {
      if (consumer === listener) consumer = undefined;
      await listener.disconnect().catch(() => undefined);
      throw new ReplyListenerUnavailableError(`the reply listener could not start: ${(error as Error).message}`, error);
    }
    await positioned;
    logger.info({ replyTopic, partition: mine, offset: nextOffset }, 'reply listener ready');
  };

  const begin = (): Promise<void> => {
    if (!starting) {
      const attempt = launch();
      starting = attempt;
      // a failed start is forgotten so the next request tries again (unless a newer attempt replaced it)
      attempt.catch(() => {
        if (starting === attempt) starting = undefined;
      });
    }
    return starting;
  };

  let relaunchTimer: NodeJS.Timeout | undefined;
  /** after a crash, keep trying in the background (backoff up to 5 s) so the listener is ready before the next request */
  const relaunchSoon = (delayMs = 250): void => {
    if (stopped || relaunchTimer) return;
    relaunchTimer = setTimeout(() => {
      relaunchTimer = undefined;
      if (stopped || starting) return;
      begin().catch(() => relaunchSoon(Math.min(delayMs * 2, 5000)));
    }, delayMs);
    relaunchTimer.unref();
  };

  const start = async (timeoutMs = options.timeoutMs): Promise<void> => {
    if (stopped) throw new ReplyListenerUnavailableError('the requester was stopped');
    const attempt = begin();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        attempt,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new ReplyListenerUnavailableError(
                  `the reply listener was not positioned on "${replyTopic}" within ${timeoutMs} ms; the broker may be unreachable`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  const request = async (req: RequestOptions): Promise<Reply> => {
    const timeoutMs = req.timeoutMs ?? options.timeoutMs;
    const startedAt = Date.now();
    const deadline = startedAt + timeoutMs;
    await start(timeoutMs);
    const correlationId = randomUUID();
    const remaining = deadline - Date.now();
    // nothing was sent: no Kafka correlation id to report
    if (remaining <= 0) throw new ReplyTimeoutError(timeoutMs);

    // registered BEFORE the send: a reply that overtakes the send's acknowledgement still finds its entry
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (pending.delete(correlationId)) {
          expired.add(correlationId);
          counters.timedOut += 1;
          reject(new ReplyTimeoutError(timeoutMs, correlationId));
        }
      }, remaining);
      pending.set(correlationId, { resolve, reject, timer });
    });
    // the timeout may reject while the send is still awaited: not an unhandled rejection
    reply.catch(() => undefined);
    const value = Buffer.isBuffer(req.value) ? req.value : Buffer.from(JSON.stringify(req.value));
    try {
      await transport.send(
        [
          {
            topic: req.topic,
            messages: [
              {
                key: req.key ?? correlationId,
                value,
                headers: {
                  ...req.headers,
                  [RR_HEADERS.correlationId]: correlationId,
                  [RR_HEADERS.replyTopic]: replyTopic,
                  [RR_HEADERS.replyPartition]: encodeReplyPartition(partition!, options.replyPartitionFormat),
                  [RR_HEADERS.deadline]: String(deadline),
                  [RR_HEADERS.contentType]: JSON_CONTENT_TYPE,
                },
              },
            ],
          },
        ],
        remaining,
      );
      counters.sent += 1;
    } catch (error) {
      const entry = pending.get(correlationId);
      if (entry) {
        pending.delete(correlationId);
        clearTimeout(entry.timer);
        // the record may still have been written: a reply to it would be late, not unknown
        expired.add(correlationId);
        counters.publishFailed += 1;
      }
      // the record may have been written: the 503 names it, as every answer that went through Kafka does
      if (error instanceof AppError) Object.assign(error.headers, kafkaCorrelationHeaders(correlationId));
      throw error;
    }
    return reply;
  };

  return {
    start,
    request,
    stats: () => ({ pending: pending.size, ...counters }),
    replyPartition: () => partition,
    async stop() {
      stopped = true;
      clearTimeout(relaunchTimer);
      for (const [id, entry] of pending) {
        clearTimeout(entry.timer);
        entry.reject(new ReplyListenerUnavailableError('the requester is shutting down'));
        pending.delete(id);
      }
      const listener = consumer;
      consumer = undefined;
      starting = undefined;
      await listener?.disconnect();
    },
  };
}
