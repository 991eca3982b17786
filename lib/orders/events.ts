import * as z from '../zod';
import { envelopeSchema } from '../kafka/envelope';
import { OrderInputSchema, ORDER_PLACED } from './order';

export const ORDER_FULFILLED = 'order.fulfilled';
export const ORDER_REJECTED = 'order.rejected';

/** An `order.placed` event as fulfil-order reads it from `orders`. */
export const OrderPlacedEventSchema = z.extend(
  envelopeSchema(
    z.extend(OrderInputSchema, {
      orderId: z.string().check(z.minLength(1), z.maxLength(64)),
      totalCents: z.int().check(z.gte(0)),
    }),
  ),
  { type: z.literal(ORDER_PLACED) },
);
export type OrderPlacedEvent = z.infer<typeof OrderPlacedEventSchema>;

const outcome = {
  orderId: z.string().check(z.minLength(1)),
  customerId: z.string().check(z.minLength(1)),
  totalCents: z.int().check(z.gte(0)),
  currency: z.string(),
};

/** The payload of `order.fulfilled`. */
export const OrderFulfilledSchema = z.object({ ...outcome, itemCount: z.int().check(z.gte(1)) });
/** The payload of `order.rejected`: `reason` says which rule the order broke. */
export const OrderRejectedSchema = z.object({ ...outcome, reason: z.string().check(z.minLength(1)) });

/** An event on `order-events`, as every fan-out listener reads it. */
export const OrderOutcomeEventSchema = z.discriminatedUnion('type', [
  z.extend(envelopeSchema(OrderFulfilledSchema), { type: z.literal(ORDER_FULFILLED) }),
  z.extend(envelopeSchema(OrderRejectedSchema), { type: z.literal(ORDER_REJECTED) }),
]);
export type OrderOutcomeEvent = z.infer<typeof OrderOutcomeEventSchema>;
