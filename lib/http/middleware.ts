import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { AppError, PayloadTooLargeError, ValidationError } from '../errors';
import type { Logger } from '../logger';

export type HttpEvent<TBody = unknown> = Omit<APIGatewayProxyEventV2, 'body'> & {
  body: TBody;
  /** set by httpJsonBody: the raw body size in bytes */
  rawBodyBytes?: number;
  /** set by httpCorrelationId: the caller's x-correlation-id, or a new one */
  correlationId?: string;
};
export type HttpResult = APIGatewayProxyStructuredResultV2;

const CORRELATION_HEADER = 'x-correlation-id';
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

/**
 * Parse and validate a JSON request body: 413 over `maxBytes`, 400 for malformed JSON or a body that
 * breaks the schema (every problem listed, with its path).
 */
export function httpJsonBody<S extends z.ZodType>(options: {
  schema: S;
  /** a number, or a function read on each request (configuration loaded lazily) */
  maxBytes: number | (() => number);
}): middy.MiddlewareObj<HttpEvent<z.infer<S>>, HttpResult> {
  const httpJsonBodyBefore: middy.MiddlewareFn<HttpEvent<z.infer<S>>, HttpResult> = (request) => {
    const event = request.event as unknown as APIGatewayProxyEventV2;
    const raw = event.body ?? '';
    const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    const maxBytes = typeof options.maxBytes === 'function' ? options.maxBytes() : options.maxBytes;
    if (bytes.length > maxBytes) throw new PayloadTooLargeError(bytes.length, maxBytes);
    if (bytes.length === 0) throw new ValidationError('the request body is empty; send a JSON object');
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new ValidationError(`the request body is not valid JSON: ${(error as Error).message}`, undefined, error);
    }
    const parsed = options.schema.safeParse(json);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
      throw new ValidationError(
        `the request body is invalid: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`,
        details,
      );
    }
    request.event.body = parsed.data;
    request.event.rawBodyBytes = bytes.length;
  };
  return { before: httpJsonBodyBefore };
}

/**
 * Every error becomes a JSON answer `{ error: { code, message, details?, correlationId } }`: an AppError
 * with its own status, anything else a 500 whose details stay in the log. 503 carries Retry-After.
 */
export function httpErrorHandler(options: {
  /** a logger, or a function giving one (configuration loaded lazily) */
  logger: Logger | (() => Logger);
  retryAfterSeconds?: number;
}): middy.MiddlewareObj<HttpEvent, HttpResult> {
  const httpErrorHandlerOnError: middy.MiddlewareFn<HttpEvent, HttpResult> = (request) => {
    const error = request.error;
    const correlationId = request.event.correlationId ?? correlationIdOf(request.event);
    const known = error instanceof AppError;
    const statusCode = known ? error.statusCode : 500;
    const logger = typeof options.logger === 'function' ? options.logger() : options.logger;
    logger[statusCode >= 500 ? 'error' : 'info']({ err: error, statusCode, correlationId }, 'request failed');
    const headers: Record<string, string> = { ...(known ? error.headers : {}), [CORRELATION_HEADER]: correlationId };
    if (statusCode === 503) headers['retry-after'] = String(options.retryAfterSeconds ?? 1);
    request.response = jsonResponse(
      statusCode,
      {
        error: {
          code: known ? error.code : 'INTERNAL_ERROR',
          message: known ? error.message : 'an unexpected error happened; it was logged',
          ...(known && error.details !== undefined ? { details: error.details } : {}),
          correlationId,
        },
      },
      headers,
    );
  };
  return { onError: httpErrorHandlerOnError };
}
