import type { ErrorBody } from '../errors';
import { CORRELATION_HEADER, jsonResponse, type HttpResult } from '../http/middleware';
import { BadReplyError, ReplyTimeoutError } from './errors';
import { KAFKA_CORRELATION_HTTP_HEADER, judgeReply, lastHeader } from './protocol';
import type { Reply, Requester } from './requester';

/** Time kept back from the function's remaining time to write the 504 before Lambda stops the function. */
export const SAFETY_MARGIN_MS = 250;

/**
 * An HTTP function's side of request-reply: publish `value` to `topic` through the container's
 * requester and answer with the reply (replyToHttp). The wait is `timeoutMs` (REPLY_TIMEOUT_MS), never
 * longer than the function's remaining time less a safety margin. Errors are AppErrors the HTTP error
 * handler maps: 503 (nothing sent, or the publish failed), 504 (no reply in time), 502 (a bad reply).
 *
 * @example
 * await askForHttp(requester, { topic: 'quote-requests', value: body, key: body.productId, timeoutMs: 5000, remainingMs: context.getRemainingTimeInMillis() });
 */
export async function askForHttp(
  requester: Requester,
  input: {
    topic: string;
    value: unknown;
    key?: string;
    timeoutMs: number;
    /** what the function has left (context.getRemainingTimeInMillis()) */
    remainingMs: number;
    /** the HTTP caller's correlation id, passed on as x-correlation-id */
    correlationId?: string;
  },
): Promise<HttpResult> {
  const budget = Math.min(input.timeoutMs, input.remainingMs - SAFETY_MARGIN_MS);
  if (budget <= 0) throw new ReplyTimeoutError(0);
  const reply = await requester.request({
    topic: input.topic,
    value: input.value,
    key: input.key,
    timeoutMs: budget,
    headers: input.correlationId ? { [CORRELATION_HEADER]: input.correlationId } : undefined,
  });
  return replyToHttp(reply, input.correlationId);
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
