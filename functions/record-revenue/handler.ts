import { kafkaEnvelopeHandler } from '../../lib/handlers';
import { AnalyticsFactSchema, recordRevenue } from '../../lib/orders/analytics';

/**
 * On `order-analytics` (Avro): the event source decodes each fact with the schema registry and lets only
 * fulfilled orders through (serverless.yml); each becomes a ledger entry on `revenue-ledger`.
 */
export const handler = kafkaEnvelopeHandler({
  name: 'record-revenue',
  schema: AnalyticsFactSchema,
  reportBatchItemFailures: true,
  handle: (fact, rt) => recordRevenue(fact, rt),
});
