import { kafkaResponderHandler } from '../../lib/handlers';
import { QuoteRequestSchema, priceQuote } from '../../lib/quotes/quote';

/** Responder on `quote-requests`: prices each quote and replies on the requester's reply topic and partition. */
export const handler = kafkaResponderHandler({
  name: 'price-quote',
  schema: QuoteRequestSchema,
  handle: async ({ body }) => priceQuote(body),
});
