import { jsonHttpHandler } from '../../lib/http/handler';
import { QuoteRequestSchema } from '../../lib/quotes/quote';
import { httpRequestReply } from '../../lib/request-reply/lambda';

const quotes = httpRequestReply({ requestTopic: 'quote-requests', replyTopic: 'quote-replies' });
// container init: position the reply listener before the first request arrives
quotes.warmUp();

/** POST /quotes: validate, ask `price-quote` over Kafka (quote-requests → quote-replies), answer with its reply. */
export const handler = jsonHttpHandler(QuoteRequestSchema, (event, _deps, context) =>
  quotes.call({ value: event.body, key: event.body.productId, context, correlationId: event.correlationId }),
);
