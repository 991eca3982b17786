import { publishChained } from '../kafka/chain';
import type { Envelope, EnvelopeEncoding } from '../kafka/envelope';
import type { Publisher } from '../kafka/producer';
import type { KafkaRecord } from '../kafka/records';
import { ANALYTICS_RECORDED } from './analytics';
import { ORDER_FULFILLED, type OrderOutcomeEvent } from './events';

/**
 * The three fan-out listeners on `order-events`. Each has its own consumer group, so each sees every
 * event; each publishes what it did to its own output topic (keyed by order id), which is how a user
 * or a test sees who processed what. Output ids derive from the listener's name and the input's id.
 */
export const LISTENERS = {
  auditLog: { name: 'audit-log', topic: 'orderAudit', type: 'audit.recorded' },
  notifyCustomer: { name: 'notify-customer', topic: 'customerNotifications', type: 'customer.notified' },
  updateAnalytics: { name: 'update-analytics', topic: 'orderAnalytics', type: ANALYTICS_RECORDED },
} as const;

/** What a listener needs: the publisher, its output topics under their real names, and the record read. */
type Deps = {
  publisher: Publisher;
  topics: Record<(typeof LISTENERS)[keyof typeof LISTENERS]['topic'], string>;
  record: KafkaRecord;
};

/** Publish what listener `l` did about `event` to its own topic, keyed by order id, chained to the event. */
function publishOutcome(
  l: (typeof LISTENERS)[keyof typeof LISTENERS],
  event: OrderOutcomeEvent,
  deps: Deps,
  payload: Record<string, unknown>,
  encoding?: EnvelopeEncoding,
): Promise<Envelope> {
  return publishChained(deps, {
    encoding,
    topic: deps.topics[l.topic],
    key: event.payload.orderId,
    cause: event,
    step: l.name,
    type: l.type,
    payload: { listener: l.name, orderId: event.payload.orderId, ...payload },
  });
}

/** audit-log: an append-only trail of every order outcome, with where it was read from. */
export function recordAudit(event: OrderOutcomeEvent, deps: Deps): Promise<Envelope> {
  return publishOutcome(LISTENERS.auditLog, event, deps, {
    eventId: event.id,
    eventType: event.type,
    source: { topic: deps.record.topic, partition: deps.record.partition, offset: deps.record.offset },
  });
}

/** notify-customer: the message the customer is sent (the sending itself is out of scope: it is published). */
export function notifyCustomer(event: OrderOutcomeEvent, deps: Deps): Promise<Envelope> {
  const { orderId, customerId } = event.payload;
  const text =
    event.type === ORDER_FULFILLED
      ? `Your order ${orderId} is on its way.`
      : `We could not fulfil your order ${orderId}: ${event.payload.reason}.`;
  return publishOutcome(LISTENERS.notifyCustomer, event, deps, { customerId, channel: 'email', text });
}

/**
 * update-analytics: one fact per order outcome (revenue counts only fulfilled orders), written with
 * `facts`: Avro with the schema registered in the registry (lib/orders/analytics.ts).
 */
export function updateAnalytics(event: OrderOutcomeEvent, deps: Deps & { facts: EnvelopeEncoding }): Promise<Envelope> {
  const fulfilled = event.type === ORDER_FULFILLED;
  return publishOutcome(
    LISTENERS.updateAnalytics,
    event,
    deps,
    {
      customerId: event.payload.customerId,
      outcome: fulfilled ? 'fulfilled' : 'rejected',
      revenueCents: fulfilled ? event.payload.totalCents : 0,
      currency: event.payload.currency,
    },
    deps.facts,
  );
}
