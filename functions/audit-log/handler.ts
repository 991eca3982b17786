import { kafkaEnvelopeHandler } from '../../lib/handlers';
import { OrderOutcomeEventSchema } from '../../lib/orders/events';
import { LISTENERS, recordAudit } from '../../lib/orders/listeners';

/** Fan-out listener on `order-events` (own group): records every order outcome to `order-audit`. */
export const handler = kafkaEnvelopeHandler({
  consumer: LISTENERS.auditLog.name,
  schema: OrderOutcomeEventSchema,
  reportBatchItemFailures: true,
  recordHandler: (event, deps) => recordAudit(event, deps),
});
