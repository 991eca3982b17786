import { jsonHttpHandler } from '../../lib/http/handler';
import { QuoteRequestSchema } from '../../lib/quotes/quote';
import { httpRequestReply } from '../../lib/request-reply/lambda';

// QUOTE_REQUEST_TOPIC and QUOTE_REPLY_TOPIC (lib/config.ts), quote-requests and quote-replies by default
const quotes = httpRequestReply((config) => config.quotes);
// container init: position the reply listener before the first request arrives
quotes.warmUp();

/** POST /quotes: validate, ask the quote responder over Kafka (`price-quote` by default), answer with its reply. */
export const handler = jsonHttpHandler(QuoteRequestSchema, (event, _deps, context) =>
  quotes.call({ value: event.body, key: event.body.productId, context, correlationId: event.correlationId }),
);
