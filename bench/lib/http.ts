/**
 * The requests the benchmarks send: POST a quote request and check the answer is its own (every
 * request-reply benchmark), and POST an order (the soak).
 */
import type { Outcome } from './stats';

/** A call the load driver makes: request `i` of a phase named `tag`. */
export type Call = (i: number, tag: string) => Promise<Outcome>;

/** POST /quotes-style requests to `url`; ok only for the answer to this very request. */
export const postQuote =
  (url: string): Call =>
  async (i, tag) => {
    const productId = `${tag}-${i}`;
    const quantity = (i % 500) + 1;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId, quantity }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as { productId?: string; quantity?: number };
    // serverless offline answers a Lambda timeout with 200 and its own error body: an error, not a quote
    if (response.status !== 200 || body.productId === undefined) return 'error';
    // a quote for another request is a mismatch: the one outcome that must never happen
    return body.productId === productId && body.quantity === quantity ? 'ok' : 'mismatch';
  };

/** POST /orders-style requests to `url`; ok only when the order was accepted (202). */
export const postOrder =
  (url: string): Call =>
  async (i, tag) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: `${tag}-${i}`,
        items: [{ sku: 'kettle', quantity: 1, unitPriceCents: 1999 }],
      }),
      signal: AbortSignal.timeout(30_000),
    });
    await response.arrayBuffer();
    return response.status === 202 ? 'ok' : 'error';
  };
