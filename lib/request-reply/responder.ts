import type { Message, TopicMessages } from 'kafkajs';
import type * as z from '../zod';
import { AppError, ValidationError, errorBody, type ErrorBody } from '../errors';
import { recordHeader, type KafkaRecord } from '../kafka/records';
import type { Logger } from '../logger';
import { parseJsonAs } from '../validation';
import { FRAMEWORK_HEADERS, JSON_CONTENT_TYPE, RR_HEADERS, decodeDeadline, decodeReplyPartition } from './protocol';
import type { RrTransport } from './transport';

/** A request as the business handler sees it: the validated body plus where it came from. */
export interface IncomingRequest<T> {
  body: T;
  /** the correlation id as text (a 16-byte Spring id shows as hex) */
  correlationId: string;
  key: string | null;
  record: KafkaRecord;
}

/** Return this from a handler to answer with a status other than 200. */
export interface ReplyWithStatus {
  readonly replyStatus: number;
  readonly body: unknown;
}

/** An explicit status for a successful reply, e.g. `replyWith(201, created)`. */
export function replyWith(status: number, body: unknown): ReplyWithStatus {
  return { replyStatus: status, body };
}

export interface ResponderStats {
  received: number;
  replied: number;
  /** error replies (4xx/5xx) among `replied` */
  errorReplies: number;
  /** no correlation id or no reply topic: an event, not a request */
  notRequest: number;
  /** deadline already passed: nobody waits, not computed */
  expired: number;
  /** reply topic not on the allow-list: nothing written */
  forbiddenReplyTopic: number;
  /** reply partition unreadable or not a partition of the reply topic */
  badReplyPartition: number;
}

export interface BatchOutcome {
  replies: number;
  skipped: number;
}

export interface ResponderOptions<S extends z.Schema> {
  /** a name for the logs, e.g. "price-quote" */
  name: string;
  /** validates each request body; a body that breaks it gets a 400 error reply */
  schema: S;
  /** computes the reply body. Throw a non-retriable AppError for an error reply; a retriable one to have the batch retried */
  handle: (request: IncomingRequest<z.infer<S>>) => Promise<unknown>;
  /** the only topics replies may be written to */
  allowedReplyTopics: readonly string[];
  transport: Pick<RrTransport, 'send' | 'partitionCount'>;
  logger: Logger;
  /** bound on the one produce call of a batch; past it the batch fails and is delivered again */
  sendTimeoutMs: number;
  now?: () => number;
}

export interface Responder {
  /** Answer every request of a batch; the replies go out together in one produce call. Throws only for infrastructure faults. */
  handleRecords(records: KafkaRecord[]): Promise<BatchOutcome>;
  stats(): ResponderStats;
}

/** Text form of a correlation id for logs: UTF-8 when printable (UUID strings), hex otherwise (Spring's 16 bytes). */
function printable(id: Buffer): string {
  const text = id.toString('utf8');
  return /^[\x20-\x7e]+$/.test(text) ? text : id.toString('hex');
}

/** NestJS's ServerKafka writes one byte; only the header's presence counts */
const NEST_IS_DISPOSED = Buffer.alloc(1);

/** `kafka_nest-err` of an error reply: its error object and status, as JSON (what a NestJS caller's observable errors with) */
function nestError(status: number, body: unknown): string {
  const error = (body as Partial<ErrorBody> | null)?.error;
  return JSON.stringify({ statusCode: status, ...(error && typeof error === 'object' ? error : {}) });
}

/**
 * The responder side of request-reply, for a function triggered by the request topic.
 *
 * Per record: skip (counted, logged) what is not a request, what has expired and what asks for a reply
 * topic outside the allow-list; validate the body; run `handle`; turn business errors into error
 * replies. Then send every reply of the batch in ONE produce call, each to the partition the requester
 * reads, with the correlation id bytes echoed verbatim. Only a retriable error (the broker cannot take
 * the replies, or `handle` hit an infrastructure fault) is thrown, so the event source retries the batch.
 *
 * @example
 * const responder = createResponder({ name: 'price-quote', schema: QuoteRequestSchema, handle: ({ body }) => priceQuote(body),
 *   allowedReplyTopics: ['quote-replies'], transport, logger, sendTimeoutMs: 5000 });
 * await responder.handleRecords(decodeKafkaEvent(event));
 */
export function createResponder<S extends z.Schema>(options: ResponderOptions<S>): Responder {
  const { logger, transport, name } = options;
  const now = options.now ?? Date.now;
  const allowed = new Set(options.allowedReplyTopics);
  const counters: ResponderStats = {
    received: 0,
    replied: 0,
    errorReplies: 0,
    notRequest: 0,
    expired: 0,
    forbiddenReplyTopic: 0,
    badReplyPartition: 0,
  };

  const skip = (reason: keyof ResponderStats, record: KafkaRecord, message: string, extra: object = {}) => {
    counters[reason] += 1;
    // an expired request is the normal aftermath of a backlog (its caller already had a 504): not a warning
    logger[reason === 'expired' ? 'info' : 'warn'](
      { responder: name, reason, topic: record.topic, partition: record.partition, offset: record.offset, ...extra },
      message,
    );
  };

  /** the reply's partition, or null to let the producer choose (no partition header: Spring's "reply to the topic") */
  const replyPartitionOf = async (record: KafkaRecord, replyTopic: string): Promise<number | null | undefined> => {
    const raw = recordHeader(record, RR_HEADERS.replyPartition);
    if (!raw) return null;
    const partition = decodeReplyPartition(raw);
    if (partition === undefined) return undefined;
    let count = await transport.partitionCount(replyTopic);
    // partitions may have been added since the count was cached
    if (partition >= count) count = await transport.partitionCount(replyTopic, true);
    return partition < count ? partition : undefined;
  };

  const answer = async (record: KafkaRecord, correlationId: Buffer): Promise<{ status: number; body: unknown }> => {
    try {
      const body = parseJsonAs(
        record.value.toString('utf8'),
        options.schema,
        'the request body',
        (message, details, cause) => new ValidationError(message, details, cause),
      );
      const result = await options.handle({
        body,
        correlationId: printable(correlationId),
        key: record.key,
        record,
      });
      if (result && typeof result === 'object' && 'replyStatus' in result && 'body' in result) {
        const explicit = result as ReplyWithStatus;
        return { status: explicit.replyStatus, body: explicit.body };
      }
      return { status: 200, body: result };
    } catch (error) {
      if (error instanceof AppError && error.retriable) throw error; // infrastructure: the batch is retried
      if (error instanceof AppError) return { status: error.statusCode, body: errorBody(error) };
      // a bug in the handler would fail the same way on every retry and block the partition: answer 500
      logger.error(
        { err: error, responder: name, kafkaCorrelationId: printable(correlationId) },
        'request handler failed',
      );
      return {
        status: 500,
        body: errorBody({ code: 'RESPONDER_FAILED', message: 'the responder failed; the error was logged' }),
      };
    }
  };

  const prepare = async (record: KafkaRecord): Promise<{ topic: string; message: Message } | undefined> => {
    const correlationId = recordHeader(record, RR_HEADERS.correlationId);
    const replyTopicBytes = recordHeader(record, RR_HEADERS.replyTopic);
    if (!correlationId || correlationId.length === 0 || !replyTopicBytes || replyTopicBytes.length === 0) {
      skip('notRequest', record, 'record skipped: no correlation id or no reply topic, so it is not a request');
      return undefined;
    }
    const id = printable(correlationId);
    const replyTopic = replyTopicBytes.toString('utf8');
    if (!allowed.has(replyTopic)) {
      skip('forbiddenReplyTopic', record, 'request skipped: its reply topic is not on the allow-list', {
        replyTopic,
        kafkaCorrelationId: id,
      });
      return undefined;
    }
    const deadline = decodeDeadline(recordHeader(record, RR_HEADERS.deadline));
    if (deadline !== undefined && deadline < now()) {
      skip('expired', record, 'request skipped: its deadline passed, nobody waits for the reply', {
        kafkaCorrelationId: id,
        deadline,
      });
      return undefined;
    }
    const partition = await replyPartitionOf(record, replyTopic);
    if (partition === undefined) {
      skip('badReplyPartition', record, 'request skipped: its reply partition is unreadable or does not exist', {
        replyTopic,
        kafkaCorrelationId: id,
        replyPartition: recordHeader(record, RR_HEADERS.replyPartition)?.toString('hex'),
      });
      return undefined;
    }
    const { status, body } = await answer(record, correlationId);
    if (status >= 400) counters.errorReplies += 1;
    return {
      topic: replyTopic,
      message: {
        ...(partition === null ? {} : { partition }),
        key: record.keyBytes ?? correlationId,
        value: JSON.stringify(body ?? null),
        headers: {
          [RR_HEADERS.correlationId]: correlationId,
          [RR_HEADERS.replyStatus]: String(status),
          [RR_HEADERS.contentType]: JSON_CONTENT_TYPE,
          // what a NestJS ClientKafka waits for: the response stream is complete (its observable
          // completes), and on an error reply the error (its observable errors); FRAMEWORK_HEADERS
          [FRAMEWORK_HEADERS.nestIsDisposed]: NEST_IS_DISPOSED,
          ...(status >= 400 ? { [FRAMEWORK_HEADERS.nestError]: nestError(status, body) } : {}),
        },
      },
    };
  };

  return {
    async handleRecords(records) {
      counters.received += records.length;
      const prepared = await Promise.all(records.map(prepare));
      const byTopic = new Map<string, Message[]>();
      for (const reply of prepared) {
        if (!reply) continue;
        const list = byTopic.get(reply.topic);
        if (list) list.push(reply.message);
        else byTopic.set(reply.topic, [reply.message]);
      }
      const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      const replies = topicMessages.reduce((n, t) => n + t.messages.length, 0);
      await transport.send(topicMessages, options.sendTimeoutMs);
      counters.replied += replies;
      return { replies, skipped: records.length - replies };
    },
    stats: () => ({ ...counters }),
  };
}
