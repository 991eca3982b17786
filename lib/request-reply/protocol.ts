/**
 * The request-reply wire protocol (../shared/docs/request-reply.md): header names and how their values
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

export const JSON_CONTENT_TYPE = 'application/json';

/** The body of an error reply (and of the HTTP error the requester answers with). */
export interface ErrorReplyBody {
  error: { code: string; message: string; details?: unknown };
}

/** The reply partition as this project writes it: 4-byte big-endian int32, as Spring does. */
export function encodeReplyPartition(partition: number): Buffer {
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
