import type { AppError } from '../errors';
import type { DeadLetterSink } from './batch';
import { createEnvelope, derivedId, HEADERS, toMessage, type Envelope } from './envelope';
import type { Publisher } from './producer';
import type { KafkaRecord } from './records';

export const DEAD_LETTERED = 'record.dead-lettered';

export const DEAD_LETTER_HEADERS = {
  reason: 'dead-letter-reason',
  consumer: 'dead-letter-consumer',
  originalTopic: 'original-topic',
  originalPartition: 'original-partition',
  originalOffset: 'original-offset',
} as const;

/** The payload of a dead-letter record: who gave up on which record, why, and the record itself. */
export interface DeadLetterPayload {
  /** the function (or consumer group) that could not process the record */
  consumer: string;
  reason: { code: string; name: string; message: string; details?: unknown };
  /** the original record, byte for byte (key, value and header values base64) */
  record: {
    topic: string;
    partition: number;
    offset: number;
    timestamp: number;
    timestampType: string;
    key: string | null;
    value: string;
    headers: { name: string; value: string }[];
  };
}

/** The dead-letter envelope for `record`; its id is derived from consumer and position, so a redelivery repeats it. */
export function deadLetterEnvelope(
  record: KafkaRecord,
  error: AppError,
  consumer: string,
): Envelope<DeadLetterPayload> {
  const id = derivedId('dead-letter', consumer, record.topic, String(record.partition), String(record.offset));
  return createEnvelope<DeadLetterPayload>({
    id,
    type: DEAD_LETTERED,
    // keep the chain: a poison record that still carries a correlation id keeps it
    correlationId: record.headers[HEADERS.correlationId] || id,
    causationId: record.headers[HEADERS.messageId] || null,
    payload: {
      consumer,
      reason: {
        code: error.code,
        name: error.name,
        message: error.message,
        ...(error.details !== undefined ? { details: error.details } : {}),
      },
      record: {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        timestampType: record.timestampType,
        key: record.keyBytes ? record.keyBytes.toString('base64') : null,
        value: record.value.toString('base64'),
        headers: record.rawHeaders.map((h) => ({ name: h.name, value: h.value.toString('base64') })),
      },
    },
  });
}

/**
 * A DeadLetterSink that publishes poison records to `topic` (keyed like the original record) and
 * resolves once the broker acknowledged; when the broker cannot take it, it throws
 * BrokerUnavailableError (retriable), so the record fails and is delivered again rather than lost.
 *
 * @example
 * const deadLetter = createDeadLetterSink({ publisher, topic: 'dead-letter', consumer: 'fulfil-order' });
 */
export function createDeadLetterSink(options: {
  publisher: Publisher;
  topic: string;
  consumer: string;
}): DeadLetterSink {
  return async function sendToDeadLetter(record, error) {
    const envelope = deadLetterEnvelope(record, error, options.consumer);
    const message = toMessage(envelope, record.key ?? '');
    message.key = record.keyBytes;
    message.headers[DEAD_LETTER_HEADERS.reason] = error.code;
    message.headers[DEAD_LETTER_HEADERS.consumer] = options.consumer;
    message.headers[DEAD_LETTER_HEADERS.originalTopic] = record.topic;
    message.headers[DEAD_LETTER_HEADERS.originalPartition] = String(record.partition);
    message.headers[DEAD_LETTER_HEADERS.originalOffset] = String(record.offset);
    await options.publisher.publish(options.topic, [message]);
  };
}
