import { kafkaEnvelopeHandler } from '../../lib/handlers';
import { OrderOutcomeEventSchema } from '../../lib/orders/events';
import { LISTENERS, notifyCustomer } from '../../lib/orders/listeners';

/** Fan-out listener on `order-events` (own group): publishes the customer's message to `customer-notifications`. */
export const handler = kafkaEnvelopeHandler({
  name: LISTENERS.notifyCustomer.name,
  schema: OrderOutcomeEventSchema,
  reportBatchItemFailures: true,
  handle: (event, rt) => notifyCustomer(event, rt),
});
