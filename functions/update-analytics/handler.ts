import { kafkaEnvelopeHandler } from '../../lib/handlers';
import { ANALYTICS_FACT_AVRO } from '../../lib/orders/analytics';
import { OrderOutcomeEventSchema } from '../../lib/orders/events';
import { LISTENERS, updateAnalytics } from '../../lib/orders/listeners';
import { avroEnvelopes } from '../../lib/schema-registry/avro';

/**
 * Fan-out listener on `order-events` (own group): publishes one analytics fact per order to
 * `order-analytics`, in Avro with its schema registered at SCHEMA_REGISTRY_URL.
 */
export const handler = kafkaEnvelopeHandler({
  name: LISTENERS.updateAnalytics.name,
  schema: OrderOutcomeEventSchema,
  reportBatchItemFailures: true,
  handle: (event, rt) =>
    updateAnalytics(event, { ...rt, facts: avroEnvelopes(rt.config, rt.topics.orderAnalytics, ANALYTICS_FACT_AVRO) }),
});
