import { randomUUID } from 'node:crypto';
import { createEnvelope, toMessage } from '../kafka/envelope';
import type { Publisher } from '../kafka/producer';
import { ORDER_PLACED, type OrderInput, type PlacedOrder } from './order';

/**
 * Publish an `order.placed` event to the orders topic, keyed by order id so every event of one order lands on
 * one partition, in order. Resolves once the broker acknowledged it.
 */
export async function placeOrder(
  input: OrderInput,
  deps: {
    publisher: Publisher;
    correlationId: string;
    /** the orders topic under its real name (the caller applies KAFKA_TOPIC_PREFIX) */
    topic: string;
  },
): Promise<{ orderId: string; messageId: string }> {
  const orderId = input.orderId ?? randomUUID();
  const payload: PlacedOrder = {
    ...input,
    orderId,
    totalCents: input.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
  };
  const envelope = createEnvelope({ type: ORDER_PLACED, payload, correlationId: deps.correlationId });
  await deps.publisher.publish(deps.topic, [toMessage(envelope, orderId)]);
  return { orderId, messageId: envelope.id };
}
