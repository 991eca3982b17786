import { z } from 'zod';
import { envelopeSchema } from '../kafka/envelope';
import { OrderInputSchema, ORDER_PLACED } from './order';

export const ORDER_FULFILLED = 'order.fulfilled';
export const ORDER_REJECTED = 'order.rejected';

/** An `order.placed` event as fulfil-order reads it from `orders`. */
export const OrderPlacedEventSchema = envelopeSchema(
  OrderInputSchema.extend({ orderId: z.string().min(1).max(64), totalCents: z.number().int().min(0) }),
).extend({ type: z.literal(ORDER_PLACED) });
export type OrderPlacedEvent = z.infer<typeof OrderPlacedEventSchema>;

const outcome = {
  orderId: z.string().min(1),
  customerId: z.string().min(1),
  totalCents: z.number().int().min(0),
  currency: z.string(),
};

/** The payload of `order.fulfilled`. */
export const OrderFulfilledSchema = z.object({ ...outcome, itemCount: z.number().int().min(1) });
/** The payload of `order.rejected`: `reason` says which rule the order broke. */
export const OrderRejectedSchema = z.object({ ...outcome, reason: z.string().min(1) });

/** An event on `order-events`, as every fan-out listener reads it. */
export const OrderOutcomeEventSchema = z.discriminatedUnion('type', [
  envelopeSchema(OrderFulfilledSchema).extend({ type: z.literal(ORDER_FULFILLED) }),
  envelopeSchema(OrderRejectedSchema).extend({ type: z.literal(ORDER_REJECTED) }),
]);
export type OrderOutcomeEvent = z.infer<typeof OrderOutcomeEventSchema>;
