import { jsonHttpHandler } from '../../lib/http/handler';
import { jsonResponse } from '../../lib/http/middleware';
import { OrderInputSchema } from '../../lib/orders/order';
import { placeOrder } from '../../lib/orders/place-order';
import { TOPIC_NAMES, topicName } from '../../lib/kafka/topics';

/** POST /orders: validate the order, publish `order.placed` to `orders`, answer 202 with its id. */
export const handler = jsonHttpHandler(OrderInputSchema, async (event, { publisher, config }) => {
  const { orderId, messageId } = await placeOrder(event.body, {
    publisher,
    correlationId: event.correlationId,
    topic: topicName(config, TOPIC_NAMES.orders),
  });
  return jsonResponse(202, { orderId, messageId, correlationId: event.correlationId });
});
