import { createHash, randomUUID } from 'node:crypto';
import type { IHeaders, Message } from 'kafkajs';
import * as z from '../zod';

/** The shape of every event this service publishes: what happened, when, and which request caused it. */
export interface Envelope<T = unknown> {
  /** unique per message; consumers de-duplicate on it */
  id: string;
  /** e.g. "order.placed" */
  type: string;
  /** ISO-8601 time the event happened */
  occurredAt: string;
  /** the id of the original request, carried unchanged along a chain of events */
  correlationId: string;
  /** the id of the message that caused this one (null for the first of a chain) */
  causationId: string | null;
  payload: T;
}

export const HEADERS = {
  contentType: 'content-type',
  messageId: 'message-id',
  eventType: 'event-type',
  correlationId: 'correlation-id',
} as const;

/**
 * The zod schema of an envelope whose payload matches `payload`: what a consumer parses a record with.
 *
 * @example
 * const PlacedSchema = envelopeSchema(z.object({ orderId: z.string() }));
 */
export function envelopeSchema<P extends z.Schema>(payload: P) {
  return z.object({
    id: z.string().check(z.minLength(1)),
    type: z.string().check(z.minLength(1)),
    occurredAt: z.iso.datetime({ offset: true }),
    correlationId: z.string().check(z.minLength(1)),
    causationId: z.nullable(z.string().check(z.minLength(1))),
    payload,
  });
}

/**
 * A message id derived from what caused the message (e.g. the input's id and the step's name): the same
 * input processed twice yields the same id, so a consumer that de-duplicates on `id` sees one effect.
 * UUID-shaped (version nibble 5, like RFC 4122 name-based ids, but SHA-256 based).
 *
 * @example
 * derivedId('fulfil-order', 'order-42'); // same string every time
 */
export function derivedId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function createEnvelope<T>(input: {
  type: string;
  payload: T;
  correlationId: string;
  causationId?: string | null;
  id?: string;
  now?: Date;
}): Envelope<T> {
  return {
    id: input.id ?? randomUUID(),
    type: input.type,
    occurredAt: (input.now ?? new Date()).toISOString(),
    correlationId: input.correlationId,
    causationId: input.causationId ?? null,
    payload: input.payload,
  };
}

/** How an envelope is written when not as JSON, e.g. Avro with a registered schema (lib/schema-registry). */
export interface EnvelopeEncoding {
  /** the content-type header of the record */
  contentType: string;
  encode(envelope: Envelope): Promise<Buffer>;
}

/**
 * The Kafka message for an envelope: JSON value (or `encoded`), and headers a consumer can route on
 * without parsing.
 */
export function toMessage(
  envelope: Envelope,
  key: string,
  encoded?: { value: Buffer; contentType: string },
): Message & { headers: IHeaders } {
  return {
    key,
    value: encoded?.value ?? JSON.stringify(envelope),
    headers: {
      [HEADERS.contentType]: encoded?.contentType ?? 'application/json',
      [HEADERS.messageId]: envelope.id,
      [HEADERS.eventType]: envelope.type,
      [HEADERS.correlationId]: envelope.correlationId,
    },
  };
}
