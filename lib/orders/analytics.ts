import type avro from 'avsc';
import * as z from '../zod';
import { publishChained } from '../kafka/chain';
import { envelopeSchema, type Envelope } from '../kafka/envelope';
import type { Publisher } from '../kafka/producer';
import ANALYTICS_FACT_JSON from './analytics-fact.avsc.json';

/**
 * order-analytics carries update-analytics's facts in Avro, with the schema registered in a schema
 * registry (Confluent-compatible: subject `<topic>-value`; Glue: schema `<topic>`); record-revenue reads
 * them with the event source's `schemaRegistryConfig`, which hands it each fact decoded as JSON. The same
 * envelope as every event.
 */
export const ANALYTICS_FACT_AVRO = ANALYTICS_FACT_JSON as avro.Schema;

export const ANALYTICS_RECORDED = 'analytics.recorded';
export const REVENUE_RECORDED = 'revenue.recorded';

/** An analytics fact as record-revenue receives it (the event source decoded the Avro to JSON). */
export const AnalyticsFactSchema = z.extend(
  envelopeSchema(
    z.object({
      listener: z.string(),
      orderId: z.string().check(z.minLength(1)),
      customerId: z.string().check(z.minLength(1)),
      outcome: z.enum(['fulfilled', 'rejected']),
      revenueCents: z.int().check(z.gte(0)),
      currency: z.string(),
    }),
  ),
  { type: z.literal(ANALYTICS_RECORDED) },
);
export type AnalyticsFact = z.infer<typeof AnalyticsFactSchema>;

/**
 * record-revenue: one ledger entry per fulfilled order on `revenue-ledger`, keyed by order id, chained to
 * the fact. Its event source's filter lets only fulfilled orders through (serverless.yml).
 */
export function recordRevenue(
  fact: AnalyticsFact,
  deps: { publisher: Publisher; topics: { revenueLedger: string } },
): Promise<Envelope> {
  const { orderId, customerId, revenueCents, currency } = fact.payload;
  return publishChained(deps, {
    topic: deps.topics.revenueLedger,
    key: orderId,
    cause: fact,
    step: 'record-revenue',
    type: REVENUE_RECORDED,
    payload: { orderId, customerId, revenueCents, currency },
  });
}
