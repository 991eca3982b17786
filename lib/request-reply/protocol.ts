import { REPLY_PARTITION_FORMATS, type ReplyPartitionFormat } from '../config';

/**
 * The request-reply wire protocol (docs/request-reply.md): header names and how their values
 * are written and read. Header names are Spring's `KafkaHeaders` and NestJS's, so a Spring
 * `ReplyingKafkaTemplate` or a NestJS `ClientKafka` can talk to a responder built here.
 */
export const RR_HEADERS = {
  /** request: a UUID string (this project), 16 raw bytes (Spring) or a UUID string (NestJS); reply: echoed verbatim */
  correlationId: 'kafka_correlationId',
  /** request: the topic the reply must go to (UTF-8) */
  replyTopic: 'kafka_replyTopic',
  /** request: the partition the requester reads; 4-byte big-endian int32 (Spring, this project) or decimal string (NestJS) */
  replyPartition: 'kafka_replyPartition',
  /** request: absolute epoch milliseconds after which nobody waits for the reply (decimal string) */
  deadline: 'x-deadline-ms',
  /** reply: HTTP-style status as a decimal string: 200 success, 4xx the request was wrong, 5xx the responder failed */
  replyStatus: 'x-reply-status',
  contentType: 'content-type',
} as const;

/**
 * How other frameworks mark a reply as an error; a reply without `x-reply-status` is judged by these.
 * NestJS: `ServerKafka` sets `kafka_nest-err` (the error, JSON or text) when a `@MessagePattern` handler
 * fails, and `kafka_nest-is-disposed` when the response stream is complete; its `ClientKafka` errors the
 * caller's observable on the first and completes it on the second (nestjs/nest,
 * packages/microservices/server/server-kafka.ts, deserializers/kafka-response.deserializer.ts).
 * Spring for Apache Kafka: no error header of its own on replies (`ReplyingKafkaTemplate` leaves error
 * detection to an application's `replyErrorChecker`); the exception headers its `KafkaHeaders` defines
 * for a record republished after a failure (`kafka_exception-*`, and `kafka_dlt-exception-*` from a
 * `DeadLetterPublishingRecoverer`) are taken as an error when they reach a reply topic
 * (https://docs.spring.io/spring-kafka/api/org/springframework/kafka/support/KafkaHeaders.html).
 */
export const FRAMEWORK_HEADERS = {
  nestError: 'kafka_nest-err',
  nestIsDisposed: 'kafka_nest-is-disposed',
  springExceptionFqcn: 'kafka_exception-fqcn',
  springExceptionMessage: 'kafka_exception-message',
  springDltExceptionFqcn: 'kafka_dlt-exception-fqcn',
  springDltExceptionMessage: 'kafka_dlt-exception-message',
} as const;

/** HTTP header of every answer that went through Kafka: the request's `kafka_correlationId`. */
export const KAFKA_CORRELATION_HTTP_HEADER = 'x-kafka-correlation-id';

export const JSON_CONTENT_TYPE = 'application/json';

export { REPLY_PARTITION_FORMATS, type ReplyPartitionFormat };

/** The reply partition as a requester writes it: 4-byte big-endian int32 by default, as Spring does. */
export function encodeReplyPartition(partition: number, format: ReplyPartitionFormat = 'int32'): Buffer {
  if (format === 'decimal') return Buffer.from(String(partition), 'latin1');
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(partition);
  return bytes;
}

/**
 * Read a reply partition header: exactly 4 bytes is a big-endian int32 (Spring, this project); otherwise
 * the bytes must be a decimal string (NestJS sends `String(partition)`). Returns undefined when the value
 * is neither, or negative. A 4-character decimal string such as "1234" is ambiguous: it is read as an
 * int32 only when its bytes are not all ASCII digits.
 */
export function decodeReplyPartition(bytes: Buffer): number | undefined {
  const text = bytes.toString('latin1');
  if (/^\d{1,10}$/.test(text)) {
    const n = Number(text);
    return n <= 0x7fffffff ? n : undefined;
  }
  if (bytes.length === 4) {
    const n = bytes.readInt32BE(0);
    return n >= 0 ? n : undefined;
  }
  return undefined;
}

/** Read `x-deadline-ms`: epoch milliseconds, or undefined when absent or not a whole number. */
export function decodeDeadline(bytes: Buffer | undefined): number | undefined {
  if (!bytes) return undefined;
  const text = bytes.toString('latin1').trim();
  return /^\d{1,16}$/.test(text) ? Number(text) : undefined;
}

/** Read `x-reply-status`: a status 100-599, or undefined when absent or malformed. */
export function decodeReplyStatus(bytes: Buffer | undefined): number | undefined {
  if (!bytes) return undefined;
  const text = bytes.toString('latin1').trim();
  if (!/^\d{3}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 100 && n <= 599 ? n : undefined;
}

/** kafkajs hands header values as Buffer, string or arrays of them: the last value as bytes, as Spring's `lastHeader`. */
export function lastHeader(value: Buffer | string | (Buffer | string)[] | undefined): Buffer | undefined {
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  if (last === undefined) return undefined;
  return typeof last === 'string' ? Buffer.from(last, 'utf8') : last;
}

/** A reply as judged by its sender's conventions (see {@link judgeReply}). */
export type ReplyVerdict =
  | { kind: 'status'; status: number }
  | { kind: 'bad-status'; raw: string }
  | { kind: 'framework-error'; framework: 'nestjs' | 'spring'; error: unknown };

const text = (bytes: Buffer | undefined) => bytes?.toString('utf8');
const jsonOrText = (value: string): unknown => {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

/**
 * Judge a reply by the conventions of the service that sent it: `x-reply-status` when present (this
 * project); else an error when the sender's framework marked one in its own way (NestJS `kafka_nest-err`,
 * Spring's `kafka_exception-*` / `kafka_dlt-exception-*`); else success (200), which is what a plain
 * Spring `@SendTo` or NestJS `@MessagePattern` reply is. `header` reads one header's last value.
 *
 * @example
 * judgeReply((name) => lastHeader(message.headers?.[name])); // { kind: 'status', status: 200 }
 */
export function judgeReply(header: (name: string) => Buffer | undefined): ReplyVerdict {
  const statusBytes = header(RR_HEADERS.replyStatus);
  if (statusBytes) {
    const status = decodeReplyStatus(statusBytes);
    return status === undefined
      ? { kind: 'bad-status', raw: statusBytes.toString('latin1') }
      : { kind: 'status', status };
  }
  const nestError = text(header(FRAMEWORK_HEADERS.nestError));
  if (nestError !== undefined) return { kind: 'framework-error', framework: 'nestjs', error: jsonOrText(nestError) };
  const fqcn = text(header(FRAMEWORK_HEADERS.springExceptionFqcn) ?? header(FRAMEWORK_HEADERS.springDltExceptionFqcn));
  const message = text(
    header(FRAMEWORK_HEADERS.springExceptionMessage) ?? header(FRAMEWORK_HEADERS.springDltExceptionMessage),
  );
  if (fqcn !== undefined || message !== undefined) {
    return {
      kind: 'framework-error',
      framework: 'spring',
      error: { ...(fqcn !== undefined ? { exception: fqcn } : {}), ...(message !== undefined ? { message } : {}) },
    };
  }
  return { kind: 'status', status: 200 };
}
