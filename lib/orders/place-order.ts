import { randomUUID } from 'node:crypto';
import { createEnvelope, toMessage } from '../kafka/envelope';
import type { TopicName } from '../kafka/topics';
import type { Publisher } from '../kafka/producer';
import { ORDER_PLACED, type OrderInput, type PlacedOrder } from './order';

export const ORDERS_TOPIC: TopicName = 'orders';

/**
 * Publish an `order.placed` event to `orders`, keyed by order id so every event of one order lands on
 * one partition, in order. Resolves once the broker acknowledged it.
 */
export async function placeOrder(
  input: OrderInput,
  deps: {
    publisher: Publisher;
    correlationId: string;
    /** default `orders`; the caller applies KAFKA_TOPIC_PREFIX (topicName) */
    topic?: string;
  },
): Promise<{ orderId: string; messageId: string }> {
  const orderId = input.orderId ?? randomUUID();
  const payload: PlacedOrder = {
    ...input,
    orderId,
    totalCents: input.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
  };
  const envelope = createEnvelope({ type: ORDER_PLACED, payload, correlationId: deps.correlationId });
  await deps.publisher.publish(deps.topic ?? ORDERS_TOPIC, [toMessage(envelope, orderId)]);
  return { orderId, messageId: envelope.id };
}
