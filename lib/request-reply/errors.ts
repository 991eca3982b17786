import { AppError } from '../errors';
import { KAFKA_CORRELATION_HTTP_HEADER } from './protocol';

/** The HTTP header that names the Kafka request an answer belongs to (none when nothing was sent). */
export const kafkaCorrelationHeaders = (kafkaCorrelationId: string | undefined): Record<string, string> =>
  kafkaCorrelationId ? { [KAFKA_CORRELATION_HTTP_HEADER]: kafkaCorrelationId } : {};

/** No reply arrived before the deadline: HTTP 504. The request may still be processed (or have been). */
export class ReplyTimeoutError extends AppError {
  /** `correlationId`: the request that was sent; absent when the time ran out before anything was sent */
  constructor(timeoutMs: number, correlationId?: string) {
    super(
      `no reply within ${timeoutMs} ms; the request may still be processed, retry if the operation is safe to repeat`,
      {
        code: 'REPLY_TIMEOUT',
        statusCode: 504,
        retriable: true,
        details: correlationId ? { kafkaCorrelationId: correlationId } : undefined,
        headers: kafkaCorrelationHeaders(correlationId),
      },
    );
    this.name = 'ReplyTimeoutError';
  }
}

/**
 * The reply listener could not be positioned on its reply partition in time (broker unreachable, group
 * coordinator not available): HTTP 503 with Retry-After. Nothing was sent.
 */
export class ReplyListenerUnavailableError extends AppError {
  constructor(message: string, options: { cause?: unknown; unreachable?: boolean } = {}) {
    super(message, { code: 'REPLY_LISTENER_UNAVAILABLE', statusCode: 503, retriable: true, ...options });
    this.name = 'ReplyListenerUnavailableError';
  }
}

/** The responder answered with an error (5xx, or its framework's error mark) or with an unreadable reply: HTTP 502. */
export class BadReplyError extends AppError {
  constructor(message: string, details: { kafkaCorrelationId: string } & Record<string, unknown>) {
    super(message, {
      code: 'BAD_REPLY',
      statusCode: 502,
      details,
      headers: kafkaCorrelationHeaders(details.kafkaCorrelationId),
    });
    this.name = 'BadReplyError';
  }
}

/** A business rule refused the request: becomes an error reply with `statusCode` (4xx; 5xx for a responder fault). */
export class RequestRefusedError extends AppError {
  constructor(message: string, options: { code: string; statusCode?: number; details?: unknown }) {
    super(message, { code: options.code, statusCode: options.statusCode ?? 422, details: options.details });
    this.name = 'RequestRefusedError';
  }
}
