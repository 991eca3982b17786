import { z } from 'zod';
import { CurrencySchema } from '../money';

/** An order as a client submits it to POST /orders. */
export const OrderInputSchema = z
  .object({
    /** optional client-chosen id: posting the same id again is how a client retries safely */
    orderId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of letters, digits, _ or -')
      .optional(),
    customerId: z.string().min(1).max(64),
    items: z
      .array(
        z
          .object({
            sku: z.string().min(1).max(64),
            quantity: z.number().int().min(1).max(1000),
            unitPriceCents: z.number().int().min(0),
          })
          .strict(),
      )
      .min(1)
      .max(100),
    currency: CurrencySchema,
  })
  .strict();

export type OrderInput = z.infer<typeof OrderInputSchema>;

/** The payload of an `order.placed` event on the `orders` topic. */
export interface PlacedOrder extends Omit<OrderInput, 'orderId'> {
  orderId: string;
  totalCents: number;
}

export const ORDER_PLACED = 'order.placed';
