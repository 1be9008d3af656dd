/**
 * The consumer that sends the order confirmation. It runs in its own process (`pnpm consumer`),
 * as many copies as you like. The "email" is a row written in the inbox's transaction: the
 * email and the inbox's "processed" mark commit together, so a redelivery after a crash (a
 * consumer killed after the effect and before BullMQ heard of it) is skipped, and the customer
 * gets one email. A real mailer would enqueue the message in that same transaction (a mail
 * outbox table) rather than talk SMTP inside it.
 */
import { type BullmqConnection, type Consumer, createConsumer } from '@ballast/adapters/bullmq';
import { createPostgresInbox } from '@ballast/adapters/postgres';
import { handleEvent, type Logger } from '@ballast/core';
import type { Kysely, Transaction } from 'kysely';
import type { OrdersDatabase } from './database.js';
import { catalog, OrderCreatedV2, queueName } from './events.js';

export interface OrderEmailsOptions {
  readonly db: Kysely<OrdersDatabase>;
  readonly connection: BullmqConnection;
  readonly logger?: Logger;
  /** Default `order-events`. */
  readonly queue?: string;
}

export function startOrderEmails({
  db,
  connection,
  logger,
  queue = queueName,
}: OrderEmailsOptions): Consumer {
  const sendConfirmation = handleEvent(
    OrderCreatedV2,
    async (event, trx: Transaction<OrdersDatabase>, context) => {
      await trx
        .insertInto('emails')
        .values({ order_id: event.payload.orderId, address: event.payload.email })
        .execute();
      context.logger.info(
        { orderId: event.payload.orderId, upcastFrom: event.upcastFrom },
        `confirmation email sent to ${event.payload.email}`,
      );
    },
  );
  return createConsumer({
    queue,
    connection,
    consumer: 'order-emails',
    catalog,
    handlers: [sendConfirmation],
    inbox: createPostgresInbox(db),
    concurrency: 4,
    ...(logger === undefined ? {} : { logger }),
  });
}
