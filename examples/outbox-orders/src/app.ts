/**
 * The orders API. `POST /orders` is idempotent (a retried request with the same
 * `Idempotency-Key` answers the first order) and transaction-bound: the key, the order row and
 * its `order.created.v2` event in the outbox commit in ONE transaction, or none of them does.
 * So an email is asked for exactly when an order exists, whatever crashes when.
 * `GET /orders/:id/confirmation` shows the email's progress from the queue engine.
 */
import type { BullmqJobReader } from '@ballast/adapters/bullmq';
import { readJobStatus } from '@ballast/adapters/bullmq';
import {
  expressErrorHandler,
  expressNotFoundHandler,
  expressValidate,
} from '@ballast/adapters/express';
import { type PostgresOutbox, withIdempotency } from '@ballast/adapters/postgres';
import { BallastError, fingerprint } from '@ballast/core';
import { parseIdempotencyKey } from '@ballast/server';
import express, { type Express } from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { OrdersDatabase } from './database.js';
import { maxTotalCents, OrderCreatedV2 } from './events.js';

export interface OrdersAppOptions {
  readonly db: Kysely<OrdersDatabase>;
  /** The outbox's write side. */
  readonly outbox: PostgresOutbox;
  /** The BullMQ queue the events go to, read for the confirmation's status. */
  readonly queue: BullmqJobReader;
}

const orderInput = z.strictObject({
  // RFC 5321's longest address: a longer one is refused here, not stored and mailed.
  email: z.email().max(254),
  totalCents: z.number().int().nonnegative().max(maxTotalCents),
});
const orderParams = z.object({ id: z.uuid() });

export function createOrdersApp({ db, outbox, queue }: OrdersAppOptions): Express {
  const app = express();
  app.use(express.json({ limit: '16kb' }));

  app.post('/orders', expressValidate({ body: orderInput }), async (req, res) => {
    const header = req.get('idempotency-key');
    if (header === undefined) throw new BallastError('IDEMPOTENCY_KEY_MISSING');
    const { email, totalCents } = req.body;
    const { result, replayed } = await withIdempotency(
      db,
      {
        key: parseIdempotencyKey(header),
        scope: 'orders',
        fingerprint: await fingerprint({
          method: 'POST',
          path: '/orders',
          body: JSON.stringify(req.body),
        }),
      },
      async (trx) => {
        const orderId = globalThis.crypto.randomUUID();
        // The order id is the ordering key: events of one order reach the queue in order.
        const event = OrderCreatedV2.create({ orderId, email, totalCents }, { key: orderId });
        await trx
          .insertInto('orders')
          .values({ id: orderId, email, total_cents: totalCents, event_id: event.id })
          .execute();
        await outbox.publish(trx, event);
        return { id: orderId, email, totalCents, eventId: event.id };
      },
    );
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(201).location(`/orders/${result.id}`).json(result);
  });

  app.get(
    '/orders/:id/confirmation',
    expressValidate({ params: orderParams }),
    async (req, res) => {
      const order = await db
        .selectFrom('orders')
        .select(['id', 'event_id'])
        .where('id', '=', req.params.id)
        .executeTakeFirst();
      if (order === undefined) throw new BallastError('NOT_FOUND');
      const job = await readJobStatus(queue, order.event_id);
      const emails = await db
        .selectFrom('emails')
        .select(['address', 'sent_at'])
        .where('order_id', '=', order.id)
        .execute();
      res.json({
        orderId: order.id,
        // Not in the engine yet: still in the outbox, waiting for the relay.
        state: job?.state ?? 'PENDING',
        attempts: job?.attempts ?? 0,
        errors: job?.errors ?? [],
        emailsSent: emails.length,
      });
    },
  );

  app.use(expressNotFoundHandler());
  app.use(expressErrorHandler());
  return app;
}
