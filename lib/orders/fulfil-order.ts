import { publishChained } from '../kafka/chain';
import type { Envelope } from '../kafka/envelope';
import type { Publisher } from '../kafka/producer';
import {
  ORDER_FULFILLED,
  ORDER_REJECTED,
  type OrderPlacedEvent,
  OrderFulfilledSchema,
  OrderRejectedSchema,
} from './events';
import type * as z from '../zod';

export const FULFIL_ORDER = 'fulfil-order';
/** SKUs with this prefix are no longer sold: an order containing one is rejected. */
export const DISCONTINUED_SKU_PREFIX = 'discontinued-';
/** Orders above this total (in cents) are rejected: they need a manual check. */
export const MAX_ORDER_TOTAL_CENTS = 10_000_000;

/** The business rule an order breaks, or null when it can be fulfilled. Pure. */
export function rejectionReason(order: OrderPlacedEvent['payload']): string | null {
  const computed = order.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
  if (computed !== order.totalCents) {
    return `totalCents ${order.totalCents} does not match the items (${computed})`;
  }
  const discontinued = order.items.find((item) => item.sku.startsWith(DISCONTINUED_SKU_PREFIX));
  if (discontinued) return `sku ${discontinued.sku} is discontinued`;
  if (order.totalCents > MAX_ORDER_TOTAL_CENTS) {
    return `the total ${order.totalCents} exceeds ${MAX_ORDER_TOTAL_CENTS} cents and needs a manual check`;
  }
  return null;
}

/**
 * Fulfil one placed order: publish `order.fulfilled`, or `order.rejected` with the rule it broke, to
 * `order-events`, keyed by order id. The event id is derived from the ORDER id, so a redelivered
 * `order.placed` — or the same order posted twice by a retrying client — yields the same event id, which
 * the listeners and any reader de-duplicate on.
 */
export async function fulfilOrder(
  event: OrderPlacedEvent,
  deps: { publisher: Publisher; topics: { orderEvents: string } },
): Promise<Envelope> {
  const order = event.payload;
  const reason = rejectionReason(order);
  const common = {
    orderId: order.orderId,
    customerId: order.customerId,
    totalCents: order.totalCents,
    currency: order.currency,
  };
  const target = {
    topic: deps.topics.orderEvents,
    key: order.orderId,
    cause: event,
    step: FULFIL_ORDER,
    idFrom: order.orderId,
  };
  if (reason) {
    const payload: z.infer<typeof OrderRejectedSchema> = { ...common, reason };
    return publishChained(deps, { ...target, type: ORDER_REJECTED, payload });
  }
  const payload: z.infer<typeof OrderFulfilledSchema> = { ...common, itemCount: order.items.length };
  return publishChained(deps, { ...target, type: ORDER_FULFILLED, payload });
}
