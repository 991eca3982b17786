import { httpRequestReplyHandler } from '../../lib/handlers';
import { QuoteRequestSchema } from '../../lib/quotes/quote';

/**
 * POST /quotes: validate, ask the quote responder over Kafka (`price-quote` by default) and answer with
 * its reply. The topics are QUOTE_REQUEST_TOPIC and QUOTE_REPLY_TOPIC (lib/config.ts).
 */
export const handler = httpRequestReplyHandler({
  schema: QuoteRequestSchema,
  topics: ({ topics, config }) => ({
    requestTopic: topics.quoteRequests,
    replyTopic: topics.quoteReplies,
    replyPartitionFormat: config.quotes.replyPartitionFormat,
  }),
  key: (body) => body.productId,
});
