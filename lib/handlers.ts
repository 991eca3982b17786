import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from './zod';
import { isBrokerUnreachable } from 'kafkajs-resilience';
import type { ReplyPartitionFormat } from './config';
import { AppError } from './errors';
import {
  httpCorrelationId,
  httpErrorHandler,
  httpJsonBody,
  type HttpEvent,
  type HttpResult,
  type JsonHttpEvent,
} from './http/middleware';
import { kafkaRecords, processKafkaBatch, type DecodedKafkaEvent, type KafkaBatchResponse } from './kafka/batch';
import { createDeadLetterSink } from './kafka/dead-letter';
import type { Envelope } from './kafka/envelope';
import { parseJsonRecord, type KafkaEvent, type KafkaRecord } from './kafka/records';
import { createLogger, type Logger } from './logger';
import { askForHttp } from './request-reply/http';
import { createResponder, type BatchOutcome, type Responder, type ResponderOptions } from './request-reply/responder';
import { runtime as containerRuntime, type Runtime } from './runtime';

/**
 * The handler builders: every function of the service is one of these four kinds, built on one middy
 * stack per kind with the container's runtime (lib/runtime.ts) and its logger. A builder's handler
 * takes its runtime from the container on first use; `handler.withRuntime(rt)` is the same handler on
 * another runtime (tests pass one with fakes, instead of patching the container's).
 */

/** A Lambda handler, and the same handler on another runtime (or a function giving one, which may throw). */
export type BoundHandler<E, R> = ((event: E, context: Context) => Promise<R>) & {
  withRuntime(rt: Runtime | (() => Runtime)): (event: E, context: Context) => Promise<R>;
};

type RuntimeSource = () => Runtime;

function bindable<E, R>(
  build: (source: RuntimeSource) => (event: E, context: Context) => Promise<R>,
): BoundHandler<E, R> {
  const handler = build(containerRuntime) as BoundHandler<E, R>;
  handler.withRuntime = (rt) => build(typeof rt === 'function' ? rt : () => rt);
  return handler;
}

/** Used only when the configuration itself is broken, so that error is still logged as JSON. */
let fallbackLogger: Logger | undefined;
function loggerOf(source: RuntimeSource): Logger {
  try {
    return source().logger;
  } catch {
    return (fallbackLogger ??= createLogger());
  }
}

function outageOf(source: RuntimeSource): Runtime['outage'] | undefined {
  try {
    return source().outage;
  } catch {
    return undefined;
  }
}

/**
 * Kafka-triggered handlers: an error that fails the whole invocation (the broker cannot take the output,
 * a broken configuration, partial responses off) is logged once with the function's logger, then thrown
 * so the event source delivers the batch again.
 */
function kafkaInvocationErrors<R>(source: RuntimeSource, name: string): middy.MiddlewareObj<KafkaEvent, R> {
  return {
    onError: (request) => {
      const error = request.error;
      // Kafka unreachable: told once per outage by the runtime's tracker, so one plain line per batch here
      if (error instanceof AppError && isBrokerUnreachable(error)) {
        loggerOf(source).info(
          { handler: name, code: error.code },
          `the batch failed (${error.message}); it will be delivered again`,
        );
        return;
      }
      loggerOf(source).error({ err: error, handler: name }, 'the batch failed; it will be delivered again');
    },
  };
}

/**
 * POST/PUT JSON over HTTP: correlation id, JSON error answers (503 with Retry-After), body size limit and
 * schema validation; `handle` gets the validated body, the runtime and the Lambda context.
 *
 * @example
 * export const handler = httpJsonHandler({ schema: OrderSchema, handle: async (event, { publisher, topics }) => jsonResponse(202, {}) });
 */
export function httpJsonHandler<S extends z.Schema>(options: {
  schema: S;
  handle: (event: JsonHttpEvent<z.infer<S>>, rt: Runtime, context: Context) => Promise<HttpResult>;
}): BoundHandler<HttpEvent, HttpResult> {
  const { schema, handle } = options;
  return bindable(
    (source) =>
      middy<HttpEvent<z.infer<S>>, HttpResult>()
        .use(httpCorrelationId())
        .use(httpErrorHandler({ logger: () => loggerOf(source), onRefused: () => outageOf(source)?.refused() }))
        .use(httpJsonBody({ schema, maxBytes: () => source().config.maxBodyBytes }))
        .handler((event, context) => handle(event as JsonHttpEvent<z.infer<S>>, source(), context)) as unknown as (
        event: HttpEvent,
        context: Context,
      ) => Promise<HttpResult>,
  );
}

/** What a record handler gets besides the parsed message: the runtime and the record itself. */
export type RecordContext = Runtime & { record: KafkaRecord };

/**
 * A Kafka-triggered function on JSON envelopes: decode the event, parse each record against `schema`,
 * run `handle` per record (offset order within a partition, partitions in parallel), send poison
 * records to the dead-letter topic, and answer AWS's partial batch response (or throw, with
 * `reportBatchItemFailures: false`).
 *
 * `reportBatchItemFailures: true` needs `functionResponseType: ReportBatchItemFailures` on the event in
 * serverless.yml: without it AWS reads the answer as success and the failed records are lost.
 *
 * @example
 * export const handler = kafkaEnvelopeHandler({ name: 'audit-log', schema: OrderOutcomeEventSchema,
 *   reportBatchItemFailures: true, handle: (event, rt) => recordAudit(event, rt) });
 */
export function kafkaEnvelopeHandler<S extends z.Schema<Envelope>>(options: {
  /** the function's name: written on dead-letter records and in output ids */
  name: string;
  schema: S;
  reportBatchItemFailures: boolean;
  handle: (message: z.infer<S>, context: RecordContext) => Promise<unknown>;
}): BoundHandler<KafkaEvent, KafkaBatchResponse> {
  return bindable((source) =>
    middy<KafkaEvent, KafkaBatchResponse>()
      .use(kafkaInvocationErrors(source, options.name))
      .use(kafkaRecords())
      .handler(async (event) => {
        const rt = source();
        const deadLetter = createDeadLetterSink({
          publisher: rt.publisher,
          topic: rt.topics.deadLetter,
          consumer: options.name,
        });
        return processKafkaBatch(
          (event as DecodedKafkaEvent).decodedRecords,
          async (record) => {
            await options.handle(parseJsonRecord(record, options.schema), { ...rt, record });
          },
          { reportBatchItemFailures: options.reportBatchItemFailures, deadLetter, logger: rt.logger },
        );
      }),
  );
}

/**
 * A request-reply responder triggered by its request topic: answers every request of the batch in one
 * produce call, each to the reply topic and partition its requester named (if on REPLY_TOPICS_ALLOWED),
 * and throws only for infrastructure faults so the event source retries the batch.
 *
 * @example
 * export const handler = kafkaResponderHandler({ name: 'price-quote', schema: QuoteRequestSchema, handle: ({ body }) => priceQuote(body) });
 */
export function kafkaResponderHandler<S extends z.Schema>(
  options: Pick<ResponderOptions<S>, 'name' | 'schema' | 'handle'>,
): BoundHandler<KafkaEvent, BatchOutcome> {
  return bindable((source) => {
    const responders = new WeakMap<Runtime, Responder>();
    const responderOf = (rt: Runtime): Responder => {
      let responder = responders.get(rt);
      if (!responder) {
        responder = createResponder({
          ...options,
          allowedReplyTopics: rt.topics.allowedReplyTopics,
          transport: rt.rrTransport,
          logger: rt.logger,
          sendTimeoutMs: rt.config.publishTimeoutMs,
        });
        responders.set(rt, responder);
      }
      return responder;
    };
    return middy<KafkaEvent, BatchOutcome>()
      .use(kafkaInvocationErrors(source, options.name))
      .use(kafkaRecords<BatchOutcome>())
      .handler(async (event) => {
        const rt = source();
        const responder = responderOf(rt);
        const outcome = await responder.handleRecords((event as DecodedKafkaEvent).decodedRecords);
        rt.logger.info({ responder: options.name, ...outcome, stats: responder.stats() }, 'request batch answered');
        return outcome;
      });
  });
}

/** Where an HTTP request-reply function sends its requests and reads its replies (real topic names). */
export interface RequestReplyTopics {
  requestTopic: string;
  replyTopic: string;
  /** how kafka_replyPartition is written (default int32); `decimal` for a NestJS responder */
  replyPartitionFormat?: ReplyPartitionFormat;
}

/**
 * An HTTP function answered over Kafka: validate the JSON body as httpJsonHandler does, publish it to
 * the request topic with a correlation id, and answer with the matching reply (503/504/502 when Kafka
 * cannot help). At container init it starts positioning the reply listener and connecting the producer,
 * so the first request does not pay for them (AWS: initialise clients outside the handler).
 *
 * @example
 * export const handler = httpRequestReplyHandler({
 *   schema: QuoteRequestSchema,
 *   topics: ({ topics }) => ({ requestTopic: topics.quoteRequests, replyTopic: topics.quoteReplies }),
 *   key: (body) => body.productId,
 * });
 */
export function httpRequestReplyHandler<S extends z.Schema>(options: {
  schema: S;
  /** the request and reply topics, from the runtime */
  topics: (rt: Runtime) => RequestReplyTopics;
  /** the request's Kafka key (ordering on the request topic); default: its correlation id */
  key?: (body: z.infer<S>) => string;
  /** start the reply listener and the producer at container init (default true) */
  warmUp?: boolean;
}): BoundHandler<HttpEvent, HttpResult> {
  const handler = httpJsonHandler({
    schema: options.schema,
    handle: (event, rt, context) => {
      const topics = options.topics(rt);
      return askForHttp(rt.requester(topics.replyTopic, topics.replyPartitionFormat), {
        topic: topics.requestTopic,
        value: event.body,
        key: options.key?.(event.body),
        timeoutMs: rt.config.requestReply.replyTimeoutMs,
        remainingMs: context.getRemainingTimeInMillis(),
        correlationId: event.correlationId,
      });
    },
  });
  if (options.warmUp !== false) warmUp(containerRuntime, options.topics);
  return handler;
}

function warmUp(source: RuntimeSource, topicsOf: (rt: Runtime) => RequestReplyTopics): void {
  let rt: Runtime;
  try {
    rt = source();
  } catch {
    return; // a broken configuration is answered (as JSON) on the first request
  }
  const topics = topicsOf(rt);
  const warn = (error: unknown) => rt.logger.warn({ err: error }, 'request-reply warm-up failed');
  // in parallel: the reply listener's group join and the producer's connection
  rt.requester(topics.replyTopic, topics.replyPartitionFormat).start().catch(warn);
  rt.rrTransport.warm().catch(warn);
}
