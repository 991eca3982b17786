import { randomUUID } from 'node:crypto';
import type { IHeaders, Message } from 'kafkajs';

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

/** The Kafka message for an envelope: JSON value, and headers a consumer can route on without parsing. */
export function toMessage(envelope: Envelope, key: string): Message & { headers: IHeaders } {
  return {
    key,
    value: JSON.stringify(envelope),
    headers: {
      [HEADERS.contentType]: 'application/json',
      [HEADERS.messageId]: envelope.id,
      [HEADERS.eventType]: envelope.type,
      [HEADERS.correlationId]: envelope.correlationId,
    },
  };
}
