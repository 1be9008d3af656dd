/**
 * The example's events. `order.created` started at v1 (the order id); v2 added the customer's
 * email and the total. The upcaster lets the v2 consumer read v1 events still in the outbox or
 * the queue during the migration, so old and new writers can run side by side.
 */
import { createEventCatalog, defineEvent, defineUpcaster } from '@ballast/core';
import { z } from 'zod';

export const OrderCreatedV1 = defineEvent('order.created', 1, z.object({ orderId: z.string() }));

/**
 * Largest total the `orders.total_cents` column (Postgres `integer`) holds: the API refuses a
 * larger one with a 400 instead of letting the insert fail with a 500.
 */
export const maxTotalCents = 2_147_483_647;

export const OrderCreatedV2 = defineEvent(
  'order.created',
  2,
  z.object({
    orderId: z.string(),
    email: z.email(),
    totalCents: z.number().int().nonnegative().max(maxTotalCents),
  }),
);

export const catalog = createEventCatalog({
  events: [OrderCreatedV1, OrderCreatedV2],
  upcasters: [
    // A v1 order predates emails on events: the consumer looks the address up instead.
    defineUpcaster(OrderCreatedV1, OrderCreatedV2, (payload) => ({
      orderId: payload.orderId,
      email: 'lookup@orders.invalid',
      totalCents: 0,
    })),
  ],
});

/** The one queue events travel on. */
export const queueName = 'order-events';
