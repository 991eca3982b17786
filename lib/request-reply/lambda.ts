import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { decodeKafkaEvent, type KafkaEvent } from '../kafka/records';
import { topicName } from '../kafka/topics';
import { CORRELATION_HEADER, jsonResponse, type HttpResult } from '../http/middleware';
import type { Config } from '../config';
import type { ErrorBody } from '../errors';
import { runtime, type Runtime } from '../runtime';
import { BadReplyError, ReplyTimeoutError } from './errors';
import { KAFKA_CORRELATION_HTTP_HEADER, judgeReply, lastHeader, type ReplyPartitionFormat } from './protocol';
import { createRequester, type Reply, type Requester } from './requester';
import { createResponder, type Responder, type ResponderOptions } from './responder';
import { createRrTransport, type RrTransport } from './transport';

/** Time kept back from the function's remaining time to write the 504 before Lambda stops the function. */
const SAFETY_MARGIN_MS = 250;

let transport: { of: Runtime; value: RrTransport } | undefined;
const requesters = new Map<string, Requester>();

/** The container's request-reply producer/admin, connected once. */
function containerTransport(rt: Runtime): RrTransport {
  if (transport?.of !== rt) transport = { of: rt, value: createRrTransport(rt.kafka, rt.logger) };
  return transport.value;
}

/** The container's one requester for `replyTopic` (a declared name, before KAFKA_TOPIC_PREFIX). */
export function containerRequester(replyTopic: string, replyPartitionFormat?: ReplyPartitionFormat): Requester {
  const rt = runtime();
  const topic = topicName(rt.config, replyTopic);
  let requester = requesters.get(topic);
  if (!requester) {
    requester = createRequester({
      kafka: rt.kafka,
      transport: containerTransport(rt),
      logger: rt.logger,
      replyTopic: topic,
      timeoutMs: rt.config.requestReply.replyTimeoutMs,
      groupIdPrefix: `${rt.config.topicPrefix}${rt.config.kafka.clientId}`,
      replyPartitionFormat,
    });
    requesters.set(topic, requester);
  }
  return requester;
}

/**
 * The reply as an HTTP answer, judged by the conventions of the service that sent it (`judgeReply`):
 * the reply's own status and body (an error body gets the HTTP caller's `correlationId`, like every
 * other error); 502 for a 5xx reply, an error marked the sender's framework's way (NestJS, Spring), an
 * unreadable `x-reply-status` or a body that is not JSON. Every outcome carries `x-kafka-correlation-id`.
 */
export function replyToHttp(reply: Reply, correlationId?: string): HttpResult {
  const kafkaCorrelationId = reply.correlationId;
  const verdict = judgeReply((name) => lastHeader(reply.headers[name]));
  if (verdict.kind === 'framework-error') {
    throw new BadReplyError(
      `the responder reported an error (${verdict.framework === 'nestjs' ? 'NestJS kafka_nest-err' : 'Spring kafka_exception headers'})`,
      { kafkaCorrelationId, responderError: verdict.error },
    );
  }
  if (verdict.kind === 'bad-status') {
    throw new BadReplyError(`the responder sent an unreadable x-reply-status header ("${verdict.raw}")`, {
      kafkaCorrelationId,
    });
  }
  const text = reply.value?.toString('utf8') ?? '';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadReplyError('the responder sent a reply that is not JSON', { kafkaCorrelationId });
  }
  const { status } = verdict;
  const error = (body as { error?: unknown } | null)?.error;
  if (status >= 500) {
    throw new BadReplyError(`the responder failed (status ${status})`, {
      kafkaCorrelationId,
      replyStatus: status,
      ...(error !== undefined ? { responderError: error } : {}),
    });
  }
  // the HTTP caller's correlation id on an error reply, as on every other error answer
  if (status >= 400 && correlationId && error && typeof error === 'object') {
    body = { ...(body as object), error: { ...(error as ErrorBody['error']), correlationId } };
  }
  return jsonResponse(status, body, { [KAFKA_CORRELATION_HTTP_HEADER]: kafkaCorrelationId });
}

/** Request and reply topic of one request type (declared names, before KAFKA_TOPIC_PREFIX). */
export interface RequestReplyTopics {
  requestTopic: string;
  replyTopic: string;
  /** how kafka_replyPartition is written (default int32); `decimal` for a NestJS responder */
  replyPartitionFormat?: ReplyPartitionFormat;
}

export interface HttpRequestReply {
  /** Start positioning the reply listener now (container init); failures are retried by the first request. */
  warmUp(): void;
  call(input: {
    value: unknown;
    key?: string;
    context: Pick<Context, 'getRemainingTimeInMillis'>;
    correlationId?: string;
  }): Promise<HttpResult>;
}

/**
 * An HTTP function's side of request-reply: publish `value` to `requestTopic`, wait for the reply on the
 * container's listener of `replyTopic`, and answer with it. The wait is REPLY_TIMEOUT_MS, never longer
 * than the function's remaining time. Errors are AppErrors the HTTP error handler maps (503/504/502).
 *
 * @example
 * const quotes = httpRequestReply({ requestTopic: 'quote-requests', replyTopic: 'quote-replies' });
 * quotes.warmUp(); // at container init
 * export const handler = jsonHttpHandler(Schema, (event, _deps, context) =>
 *   quotes.call({ value: event.body, key: event.body.productId, context, correlationId: event.correlationId }));
 */
export function httpRequestReply(
  topics: RequestReplyTopics | ((config: Config) => RequestReplyTopics),
): HttpRequestReply {
  const options = (): RequestReplyTopics => (typeof topics === 'function' ? topics(runtime().config) : topics);
  return {
    /** Start positioning the reply listener now (container init); failures are retried by the first request. */
    warmUp(): void {
      try {
        const requester = containerRequester(options().replyTopic, options().replyPartitionFormat);
        const warnOf = (error: unknown) => runtime().logger.warn({ err: error }, 'request-reply warm-up failed');
        // in parallel: the reply listener's group join and the producer's connection
        requester.start().catch(warnOf);
        containerTransport(runtime()).warm().catch(warnOf);
      } catch (error) {
        // configuration errors surface (as JSON) on the first request
        void error;
      }
    },
    async call(input: {
      value: unknown;
      key?: string;
      context: Pick<Context, 'getRemainingTimeInMillis'>;
      correlationId?: string;
    }) {
      const rt = runtime();
      const budget = Math.min(
        rt.config.requestReply.replyTimeoutMs,
        input.context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
      );
      if (budget <= 0) throw new ReplyTimeoutError(0);
      const reply = await containerRequester(options().replyTopic, options().replyPartitionFormat).request({
        topic: topicName(rt.config, options().requestTopic),
        value: input.value,
        key: input.key,
        timeoutMs: budget,
        headers: input.correlationId ? { [CORRELATION_HEADER]: input.correlationId } : undefined,
      });
      return replyToHttp(reply, input.correlationId);
    },
  };
}

/**
 * A Kafka-triggered responder function: decodes the event, answers every request of the batch (one
 * produce call), throws only for infrastructure faults so the event source retries the batch.
 *
 * @example
 * export const handler = kafkaResponder({ name: 'price-quote', schema: QuoteRequestSchema, handle: ({ body }) => priceQuote(body) });
 */
export function kafkaResponder<S extends z.ZodType>(
  options: Pick<ResponderOptions<S>, 'name' | 'schema' | 'handle'>,
): (event: KafkaEvent) => Promise<{ replies: number; skipped: number }> {
  let responder: { of: Runtime; value: Responder } | undefined;
  return async (event) => {
    const rt = runtime();
    if (responder?.of !== rt) {
      responder = {
        of: rt,
        value: createResponder({
          ...options,
          allowedReplyTopics: rt.config.requestReply.allowedReplyTopics.map((t) => topicName(rt.config, t)),
          transport: containerTransport(rt),
          logger: rt.logger,
          sendTimeoutMs: rt.config.publishTimeoutMs,
        }),
      };
    }
    const outcome = await responder.value.handleRecords(decodeKafkaEvent(event));
    rt.logger.info({ responder: options.name, ...outcome, stats: responder.value.stats() }, 'request batch answered');
    return outcome;
  };
}
