import { kafkaEnvelopeHandler } from '../../lib/handlers';
import { OrderOutcomeEventSchema } from '../../lib/orders/events';
import { LISTENERS, updateAnalytics } from '../../lib/orders/listeners';

/** Fan-out listener on `order-events` (own group): publishes one analytics fact per order to `order-analytics`. */
export const handler = kafkaEnvelopeHandler({
  name: LISTENERS.updateAnalytics.name,
  schema: OrderOutcomeEventSchema,
  reportBatchItemFailures: true,
  handle: (event, rt) => updateAnalytics(event, rt),
});
