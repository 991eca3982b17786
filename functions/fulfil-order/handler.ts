import { kafkaEnvelopeHandler } from '../../lib/handlers';
import { OrderPlacedEventSchema } from '../../lib/orders/events';
import { FULFIL_ORDER, fulfilOrder } from '../../lib/orders/fulfil-order';

/** Queue worker on `orders` (group order-workers): fulfils or rejects each order, publishes to `order-events`. */
export const handler = kafkaEnvelopeHandler({
  name: FULFIL_ORDER,
  schema: OrderPlacedEventSchema,
  reportBatchItemFailures: true,
  handle: (event, rt) => fulfilOrder(event, rt),
});
