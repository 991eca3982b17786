import { publishChained } from '../kafka/event-handler';
import type { Envelope } from '../kafka/envelope';
import type { Publisher } from '../kafka/producer';
import type { KafkaRecord } from '../kafka/records';
import { TOPIC_NAMES, topicName } from '../kafka/topics';
import { ORDER_FULFILLED, type OrderOutcomeEvent } from './events';

/**
 * The three fan-out listeners on `order-events`. Each has its own consumer group, so each sees every
 * event; each publishes what it did to its own output topic (keyed by order id), which is how a user
 * or a test sees who processed what. Output ids derive from the listener's name and the input's id.
 */
export const LISTENERS = {
  auditLog: { name: 'audit-log', topic: TOPIC_NAMES.orderAudit, type: 'audit.recorded' },
  notifyCustomer: { name: 'notify-customer', topic: TOPIC_NAMES.customerNotifications, type: 'customer.notified' },
  updateAnalytics: { name: 'update-analytics', topic: TOPIC_NAMES.orderAnalytics, type: 'analytics.recorded' },
} as const;

type Deps = { publisher: Publisher; config: { topicPrefix: string }; record: KafkaRecord };

/** audit-log: an append-only trail of every order outcome, with where it was read from. */
export function recordAudit(event: OrderOutcomeEvent, deps: Deps): Promise<Envelope> {
  const l = LISTENERS.auditLog;
  return publishChained(deps, {
    topic: topicName(deps.config, l.topic),
    key: event.payload.orderId,
    cause: event,
    step: l.name,
    type: l.type,
    payload: {
      listener: l.name,
      orderId: event.payload.orderId,
      eventId: event.id,
      eventType: event.type,
      source: { topic: deps.record.topic, partition: deps.record.partition, offset: deps.record.offset },
    },
  });
}

/** notify-customer: the message the customer is sent (the sending itself is out of scope: it is published). */
export function notifyCustomer(event: OrderOutcomeEvent, deps: Deps): Promise<Envelope> {
  const l = LISTENERS.notifyCustomer;
  const { orderId, customerId } = event.payload;
  const text =
    event.type === ORDER_FULFILLED
      ? `Your order ${orderId} is on its way.`
      : `We could not fulfil your order ${orderId}: ${event.payload.reason}.`;
  return publishChained(deps, {
    topic: topicName(deps.config, l.topic),
    key: orderId,
    cause: event,
    step: l.name,
    type: l.type,
    payload: { listener: l.name, orderId, customerId, channel: 'email', text },
  });
}

/** update-analytics: one fact per order outcome (revenue counts only fulfilled orders). */
export function updateAnalytics(event: OrderOutcomeEvent, deps: Deps): Promise<Envelope> {
  const l = LISTENERS.updateAnalytics;
  const fulfilled = event.type === ORDER_FULFILLED;
  return publishChained(deps, {
    topic: topicName(deps.config, l.topic),
    key: event.payload.orderId,
    cause: event,
    step: l.name,
    type: l.type,
    payload: {
      listener: l.name,
      orderId: event.payload.orderId,
      customerId: event.payload.customerId,
      outcome: fulfilled ? 'fulfilled' : 'rejected',
      revenueCents: fulfilled ? event.payload.totalCents : 0,
      currency: event.payload.currency,
    },
  });
}
