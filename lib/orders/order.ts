import * as z from '../zod';
import { CurrencySchema } from '../money';

/** An order as a client submits it to POST /orders. */
export const OrderInputSchema = z.strictObject({
  /** optional client-chosen id: posting the same id again is how a client retries safely */
  orderId: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of letters, digits, _ or -')),
  ),
  customerId: z.string().check(z.minLength(1), z.maxLength(64)),
  items: z
    .array(
      z.strictObject({
        sku: z.string().check(z.minLength(1), z.maxLength(64)),
        quantity: z.int().check(z.gte(1), z.lte(1000)),
        unitPriceCents: z.int().check(z.gte(0)),
      }),
    )
    .check(z.minLength(1), z.maxLength(100)),
  currency: CurrencySchema,
});

export type OrderInput = z.infer<typeof OrderInputSchema>;

/** The payload of an `order.placed` event on the `orders` topic. */
export interface PlacedOrder extends Omit<OrderInput, 'orderId'> {
  orderId: string;
  totalCents: number;
}

export const ORDER_PLACED = 'order.placed';
