import { createHash } from 'node:crypto';
import * as z from '../zod';
import { CurrencySchema } from '../money';
import { RequestRefusedError } from '../request-reply/errors';

/** The body of `POST /quotes` and of a `quote-requests` record. */
export const QuoteRequestSchema = z.strictObject({
  productId: z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, . _ -')),
  quantity: z.int().check(z.gte(1)),
  currency: CurrencySchema,
});

export type QuoteRequest = z.infer<typeof QuoteRequestSchema>;

export interface Quote {
  productId: string;
  quantity: number;
  currency: string;
  unitPriceCents: number;
  /** volume discount, in percent */
  discountPercent: number;
  totalCents: number;
}

export const MAX_QUANTITY = 10_000;

/**
 * Price a quote. A stand-in for a real price list: the unit price is derived from the product id, with
 * a volume discount. Business refusals (the caller's fault) become error replies, never retries.
 */
export function priceQuote(request: QuoteRequest): Quote {
  if (request.productId.startsWith('discontinued-')) {
    throw new RequestRefusedError(`product ${request.productId} is discontinued and cannot be quoted`, {
      code: 'PRODUCT_DISCONTINUED',
      statusCode: 422,
    });
  }
  if (request.quantity > MAX_QUANTITY) {
    throw new RequestRefusedError(`at most ${MAX_QUANTITY} units can be quoted at once, got ${request.quantity}`, {
      code: 'QUANTITY_TOO_LARGE',
      statusCode: 422,
      details: { max: MAX_QUANTITY },
    });
  }
  const unitPriceCents = 100 + (createHash('sha256').update(request.productId).digest().readUInt16BE(0) % 9900);
  const discountPercent = request.quantity >= 1000 ? 10 : request.quantity >= 100 ? 5 : 0;
  const totalCents = Math.round((unitPriceCents * request.quantity * (100 - discountPercent)) / 100);
  return { ...request, unitPriceCents, discountPercent, totalCents };
}
