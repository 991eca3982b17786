import { httpJsonHandler } from '../../lib/handlers';
import { jsonResponse } from '../../lib/http/middleware';
import { OrderInputSchema } from '../../lib/orders/order';
import { placeOrder } from '../../lib/orders/place-order';

/** POST /orders: validate the order, publish `order.placed` to `orders`, answer 202 with its id. */
export const handler = httpJsonHandler({
  schema: OrderInputSchema,
  handle: async (event, { publisher, topics }) => {
    const { orderId, messageId } = await placeOrder(event.body, {
      publisher,
      correlationId: event.correlationId,
      topic: topics.orders,
    });
    return jsonResponse(202, { orderId, messageId, correlationId: event.correlationId });
  },
});
