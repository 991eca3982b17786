import { kafkaEnvelopeHandler } from '../../lib/kafka/event-handler';
import { OrderOutcomeEventSchema } from '../../lib/orders/events';
import { LISTENERS, recordAudit } from '../../lib/orders/listeners';

/** Fan-out listener on `order-events` (own group): records every order outcome to `order-audit`. */
export const handler = kafkaEnvelopeHandler({
  consumer: LISTENERS.auditLog.name,
  schema: OrderOutcomeEventSchema,
  reportBatchItemFailures: true,
  recordHandler: async (event, deps) => {
    await recordAudit(event, deps);
  },
});
