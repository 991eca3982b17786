/**
 * One base error for the project. `retriable` decides what a Kafka-triggered function does with a
 * failing record (throw so the event source delivers it again, or dead-letter it); `statusCode` what an
 * HTTP function answers. `code` is a stable machine-readable name, `message` says what to do.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly statusCode: number;
  readonly details?: unknown;
  /** extra HTTP headers of the error answer, e.g. `x-kafka-correlation-id` (lib/request-reply) */
  headers: Record<string, string>;
  /**
   * The broker could not be reached, and this error itself says so (a deadline that ran out waiting on
   * it), with no kafkajs error to show: kafkajs-resilience's isBrokerUnreachable reads it, and the
   * outage is told once instead of once per error. An error that wraps kafkajs's error leaves it false.
   */
  readonly unreachable: boolean;

  constructor(
    message: string,
    options: {
      code: string;
      retriable?: boolean;
      statusCode?: number;
      details?: unknown;
      cause?: unknown;
      headers?: Record<string, string>;
      unreachable?: boolean;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = options.code;
    this.retriable = options.retriable ?? false;
    this.statusCode = options.statusCode ?? 500;
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.unreachable = options.unreachable ?? false;
  }
}

/** Configuration is missing or invalid; lists every problem at once. */
export class ConfigError extends AppError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      code: 'CONFIG_INVALID',
      statusCode: 500,
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The input is malformed or breaks the schema: a 400 for HTTP, a poison message for Kafka. */
export class ValidationError extends AppError {
  constructor(message: string, details?: unknown, cause?: unknown) {
    super(message, { code: 'VALIDATION_FAILED', statusCode: 400, details, cause });
    this.name = 'ValidationError';
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(size: number, limit: number) {
    super(`the request body is ${size} bytes; the limit is ${limit} bytes`, {
      code: 'PAYLOAD_TOO_LARGE',
      statusCode: 413,
      details: { size, limit },
    });
    this.name = 'PayloadTooLargeError';
  }
}

/** The request's content type is not one this API reads (JSON in UTF-8). */
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super(message, { code: 'UNSUPPORTED_MEDIA_TYPE', statusCode: 415 });
    this.name = 'UnsupportedMediaTypeError';
  }
}

/**
 * The Kafka cluster cannot be reached, did not acknowledge in time (`unreachable`), or could not take the
 * request (`cause`: kafkajs's error, which says which). Retriable.
 */
export class BrokerUnavailableError extends AppError {
  constructor(message: string, options: { cause?: unknown; unreachable?: boolean } = {}) {
    super(message, { code: 'BROKER_UNAVAILABLE', statusCode: 503, retriable: true, ...options });
    this.name = 'BrokerUnavailableError';
  }
}

/**
 * The JSON body of every error answer, over HTTP and in error replies over Kafka:
 * `{ error: { code, message, details?, correlationId? } }` (correlationId: the HTTP caller's).
 */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; correlationId?: string };
}

/**
 * The error body for `error` (an AppError or anything with a code and a message).
 *
 * @example
 * errorBody(new ValidationError('the request body is empty'), 'c-1');
 * // { error: { code: 'VALIDATION_FAILED', message: 'the request body is empty', correlationId: 'c-1' } }
 */
export function errorBody(
  error: { code: string; message: string; details?: unknown },
  correlationId?: string,
): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details !== undefined ? { details: error.details } : {}),
      ...(correlationId !== undefined ? { correlationId } : {}),
    },
  };
}
