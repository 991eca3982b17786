import { kafkaEnvelopeHandler } from '../../lib/handlers';
import { OrderOutcomeEventSchema } from '../../lib/orders/events';
import { LISTENERS, recordAudit } from '../../lib/orders/listeners';

/** Fan-out listener on `order-events` (own group): records every order outcome to `order-audit`. */
export const handler = kafkaEnvelopeHandler({
  name: LISTENERS.auditLog.name,
  schema: OrderOutcomeEventSchema,
  reportBatchItemFailures: true,
  handle: (event, rt) => recordAudit(event, rt),
});
