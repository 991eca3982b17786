import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { AppError } from '../errors';
import type { OutageSink } from 'kafkajs-resilience';
import type { Logger } from '../logger';
import { ReplyListenerUnavailableError, ReplyTimeoutError, kafkaCorrelationHeaders } from './errors';
import { createPendingReplies, type Reply } from './pending-replies';
import {
  JSON_CONTENT_TYPE,
  RR_HEADERS,
  judgeReply,
  encodeReplyPartition,
  lastHeader,
  type ReplyPartitionFormat,
  type ReplyVerdict,
} from './protocol';
import { createReplyListener } from './reply-listener';
import type { RrTransport } from './transport';

export type { Reply } from './pending-replies';

/** The status judgeReply reads (the one rule for a reply's status), or undefined for an error marked another way. */
const statusOf = (verdict: ReplyVerdict): number | undefined =>
  verdict.kind === 'status' ? verdict.status : undefined;

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
  kafka: Pick<Kafka, 'consumer'>;
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
  /** where an unreachable broker is told once per outage */
  outage?: OutageSink;
}

/**
 * The requester side of request-reply: ONE reply listener per container (./reply-listener.ts: its own
 * consumer group on one reply partition, positioned before the first request is sent) and the requests
 * waiting for their reply, keyed by correlation id (./pending-replies.ts).
 *
 * - The pending entry is registered before the send, removed on reply, timeout or publish error.
 * - Late, duplicate and unknown replies are dropped and counted (`stats()`); a reply only ever resolves
 *   the request whose correlation id it carries.
 *
 * @example
 * const requester = createRequester({ kafka, transport, logger, replyTopic: 'quote-replies', timeoutMs: 5000, groupIdPrefix: 'svc' });
 * const reply = await requester.request({ topic: 'quote-requests', value: { productId: 'p-1', quantity: 2 } });
 */
export function createRequester(options: RequesterOptions): Requester {
  const { transport, logger, replyTopic } = options;
  const pending = createPendingReplies({ memory: options.memory });
  const counters = { sent: 0, publishFailed: 0 };

  const onMessage = (message: KafkaMessage, partition: number) => {
    const correlationId = lastHeader(message.headers?.[RR_HEADERS.correlationId])?.toString('utf8') ?? '';
    const settlement = pending.settle(correlationId, () => ({
      correlationId,
      status: statusOf(judgeReply((name) => lastHeader(message.headers?.[name]))),
      value: message.value,
      headers: message.headers ?? {},
      partition,
      offset: message.offset,
    }));
    const where = { kafkaCorrelationId: correlationId, replyTopic, partition };
    if (settlement === 'late') logger.info(where, 'late reply dropped: its request had timed out');
    else if (settlement === 'duplicate') logger.info(where, 'duplicate reply dropped');
    // another container reading the same partition, or a record that is not a reply to anyone here
    else if (settlement === 'unknown') logger.debug(where, 'reply for an unknown request dropped');
  };

  const listener = createReplyListener({
    createConsumer: (config) => options.kafka.consumer(config),
    endOffsets: (topic) => transport.endOffsets(topic),
    logger,
    replyTopic,
    replyPartition: options.replyPartition,
    groupIdPrefix: options.groupIdPrefix,
    sessionTimeoutMs: options.sessionTimeoutMs,
    onMessage,
    outage: options.outage,
  });

  const start = (timeoutMs = options.timeoutMs): Promise<void> => listener.start(timeoutMs);

  const request = async (req: RequestOptions): Promise<Reply> => {
    const timeoutMs = req.timeoutMs ?? options.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    await start(timeoutMs);
    const correlationId = randomUUID();
    const remaining = deadline - Date.now();
    // nothing was sent: no Kafka correlation id to report
    if (remaining <= 0) throw new ReplyTimeoutError(timeoutMs);

    // registered BEFORE the send: a reply that overtakes the send's acknowledgement still finds its entry
    const reply = pending.register(correlationId, remaining, () => new ReplyTimeoutError(timeoutMs, correlationId));
    const headers = {
      ...req.headers,
      [RR_HEADERS.correlationId]: correlationId,
      [RR_HEADERS.replyTopic]: replyTopic,
      [RR_HEADERS.replyPartition]: encodeReplyPartition(listener.partition()!, options.replyPartitionFormat),
      [RR_HEADERS.deadline]: String(deadline),
      [RR_HEADERS.contentType]: JSON_CONTENT_TYPE,
    };
    const value = Buffer.isBuffer(req.value) ? req.value : Buffer.from(JSON.stringify(req.value));
    try {
      await transport.send(
        [{ topic: req.topic, messages: [{ key: req.key ?? correlationId, value, headers }] }],
        remaining,
      );
      counters.sent += 1;
    } catch (error) {
      if (pending.abandon(correlationId)) counters.publishFailed += 1;
      // the record may have been written: the 503 names it, as every answer that went through Kafka does
      if (error instanceof AppError) Object.assign(error.headers, kafkaCorrelationHeaders(correlationId));
      throw error;
    }
    return reply;
  };

  return {
    start,
    request,
    stats: () => ({ ...pending.counts(), ...counters, joins: listener.joins() }),
    replyPartition: () => listener.partition(),
    async stop() {
      pending.rejectAll(new ReplyListenerUnavailableError('the requester is shutting down'));
      await listener.stop();
    },
  };
}
