import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type * as z from '../zod';
import { AppError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError, errorBody } from '../errors';
import type { Logger } from '../logger';
import { KAFKA_CORRELATION_HTTP_HEADER } from '../request-reply/protocol';
import { parseJsonAs } from '../validation';

export type HttpEvent<TBody = unknown> = Omit<APIGatewayProxyEventV2, 'body'> & {
  body: TBody;
  /** set by httpJsonBody: the raw body size in bytes */
  rawBodyBytes?: number;
  /** set by httpCorrelationId: the caller's x-correlation-id, or a new one */
  correlationId?: string;
};
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** An HTTP event once the middlewares ran: the validated body and the correlation id. */
export type JsonHttpEvent<T> = HttpEvent<T> & { correlationId: string };

/** The HTTP header carrying the caller's correlation id, echoed on every answer and passed on to Kafka. */
export const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function header(event: { headers?: Record<string, string | undefined> }, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** The caller's x-correlation-id when it is sane, else a new one. */
export function correlationIdOf(event: { headers?: Record<string, string | undefined> }): string {
  const given = header(event, CORRELATION_HEADER);
  return given && CORRELATION_ID.test(given) ? given : randomUUID();
}

/**
 * Gives every request a correlation id (the caller's `x-correlation-id` when sane, else a new UUID) on
 * `event.correlationId`, and echoes it in the `x-correlation-id` response header.
 */
export function httpCorrelationId(): middy.MiddlewareObj<HttpEvent, HttpResult> {
  const httpCorrelationIdBefore: middy.MiddlewareFn<HttpEvent, HttpResult> = (request) => {
    request.event.correlationId = correlationIdOf(request.event);
  };
  const httpCorrelationIdAfter: middy.MiddlewareFn<HttpEvent, HttpResult> = (request) => {
    if (request.response && request.event.correlationId) {
      request.response.headers = { ...request.response.headers, [CORRELATION_HEADER]: request.event.correlationId };
    }
  };
  return { before: httpCorrelationIdBefore, after: httpCorrelationIdAfter, onError: httpCorrelationIdAfter };
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

// `application/json`, or a media type with the `+json` structured syntax suffix (RFC 6839 section 3.1),
// e.g. application/merge-patch+json; parameters follow a `;` (RFC 9110 section 8.3.1)
const JSON_MEDIA_TYPE = /^application\/(?:[\w.!#$&^+-]+\+)?json$/i;
const REPLACEMENT_CHARACTER = '\uFFFD';

/** Why the request's content-type is not JSON in UTF-8, or undefined when it is. */
function contentTypeProblem(contentType: string | undefined): string | undefined {
  const send = 'send content-type: application/json';
  if (!contentType) return `the request has no content-type header; ${send}`;
  const [mediaType = '', ...parameters] = contentType.split(';').map((part) => part.trim());
  if (!JSON_MEDIA_TYPE.test(mediaType)) return `the content type ${mediaType || '(empty)'} is not JSON; ${send}`;
  const charset = parameters.map((p) => /^charset\s*=\s*"?([^"]*)"?$/i.exec(p)?.[1]).find((c) => c !== undefined);
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    return `the charset ${charset} is not supported; send the body in UTF-8 (charset=utf-8)`;
  }
  return undefined;
}

/**
 * The body as text, refusing bytes that are not UTF-8 rather than publishing them changed into U+FFFD.
 * A text body was already decoded by whatever delivered it (serverless offline decodes JSON bodies
 * with replacement), so a literal U+FFFD counts as such a replacement, in a base64 body too; JSON can
 * still carry that character as the escape `\ufffd`.
 */
function utf8Text(bytes: Buffer, raw: string, isBase64Encoded: boolean): string {
  const text = isBase64Encoded ? bytes.toString('utf8') : raw;
  const bad = text.indexOf(REPLACEMENT_CHARACTER);
  if (bad !== -1) {
    const at = Buffer.byteLength(text.slice(0, bad));
    throw new ValidationError(`the request body is not valid UTF-8 (byte ${at}); send the JSON encoded in UTF-8`);
  }
  return text;
}

/**
 * Parse and validate a JSON request body: 415 unless the content type is JSON in UTF-8, 413 over
 * `maxBytes`, 400 for a body that is empty, not UTF-8, not JSON, or breaks the schema (every problem
 * listed, with its path).
 */
export function httpJsonBody<S extends z.Schema>(options: {
  schema: S;
  /** a number, or a function read on each request (configuration loaded lazily) */
  maxBytes: number | (() => number);
}): middy.MiddlewareObj<HttpEvent<z.infer<S>>, HttpResult> {
  const httpJsonBodyBefore: middy.MiddlewareFn<HttpEvent<z.infer<S>>, HttpResult> = (request) => {
    const event = request.event as unknown as APIGatewayProxyEventV2;
    const mediaTypeProblem = contentTypeProblem(header(event, 'content-type'));
    if (mediaTypeProblem) throw new UnsupportedMediaTypeError(mediaTypeProblem);
    const raw = event.body ?? '';
    const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    const maxBytes = typeof options.maxBytes === 'function' ? options.maxBytes() : options.maxBytes;
    if (bytes.length > maxBytes) throw new PayloadTooLargeError(bytes.length, maxBytes);
    if (bytes.length === 0) throw new ValidationError('the request body is empty; send a JSON object');
    const text = utf8Text(bytes, raw, event.isBase64Encoded);
    request.event.body = parseJsonAs(
      text,
      options.schema,
      'the request body',
      (message, details, cause) => new ValidationError(message, details, cause),
    );
    request.event.rawBodyBytes = bytes.length;
  };
  return { before: httpJsonBodyBefore };
}

/**
 * Every error becomes a JSON answer (lib/errors.ts `errorBody`, with the correlationId): an AppError
 * with its own status, anything else a 500 whose details stay in the log. 503 carries Retry-After.
 */
export function httpErrorHandler(options: {
  /** a logger, or a function giving one (configuration loaded lazily) */
  logger: Logger | (() => Logger);
  retryAfterSeconds?: number;
  /** a request refused because Kafka could not help (503/504): counted where the outage is told */
  onRefused?: (error: AppError) => void;
}): middy.MiddlewareObj<HttpEvent, HttpResult> {
  const httpErrorHandlerOnError: middy.MiddlewareFn<HttpEvent, HttpResult> = (request) => {
    const error = request.error;
    const correlationId = request.event.correlationId ?? correlationIdOf(request.event);
    const known = error instanceof AppError;
    const statusCode = known ? error.statusCode : 500;
    const logger = typeof options.logger === 'function' ? options.logger() : options.logger;
    const path = (request.event as Partial<APIGatewayProxyEventV2>).rawPath;
    if (known && statusCode < 500) {
      // the caller's mistake, answered in full in the response: one line, no stack, no cause chain
      logger.info({ statusCode, code: error.code, correlationId, path }, error.message);
    } else if (known && error.retriable && (statusCode === 503 || statusCode === 504)) {
      // an expected operational state (Kafka unreachable or slow), told once per outage elsewhere: one line
      const kafkaCorrelationId = error.headers[KAFKA_CORRELATION_HTTP_HEADER];
      logger.info({ statusCode, code: error.code, correlationId, kafkaCorrelationId, path }, error.message);
      options.onRefused?.(error);
    } else {
      logger.error({ err: error, statusCode, correlationId, path }, 'request failed');
    }
    const headers: Record<string, string> = { ...(known ? error.headers : {}), [CORRELATION_HEADER]: correlationId };
    if (statusCode === 503) headers['retry-after'] = String(options.retryAfterSeconds ?? 1);
    const body = known
      ? errorBody(error, correlationId)
      : errorBody({ code: 'INTERNAL_ERROR', message: 'an unexpected error happened; it was logged' }, correlationId);
    request.response = jsonResponse(statusCode, body, headers);
  };
  return { onError: httpErrorHandlerOnError };
}
