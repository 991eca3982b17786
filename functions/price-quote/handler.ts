import { QuoteRequestSchema, priceQuote } from '../../lib/quotes/quote';
import { kafkaResponder } from '../../lib/request-reply/lambda';

/** Responder on `quote-requests`: prices each quote and replies on the requester's reply topic and partition. */
export const handler = kafkaResponder({
  name: 'price-quote',
  schema: QuoteRequestSchema,
  handle: async ({ body }) => priceQuote(body),
});
