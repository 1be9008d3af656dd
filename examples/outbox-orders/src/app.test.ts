import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBullmqPublisher } from '@ballast/adapters/bullmq';
import { createPostgresOutbox } from '@ballast/adapters/postgres';
import { createRelay } from '@ballast/core';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWith,
  postgresUrl,
  redisUrl,
  uniqueSchemaName,
} from '../../../packages/adapters/test/support/services.js';
import { createOrdersApp } from './app.js';
import { migrate, openDatabase } from './database.js';
import { OrderCreatedV1 } from './events.js';
import { startOrderEmails } from './order-emails.js';

describeWith('postgres', 'outbox-orders example', () => {
  describeWith('redis', 'on Postgres and Redis', () => {
    const schema = uniqueSchemaName('outbox_orders');
    const queueName = uniqueSchemaName('order_events');
    const url = new URL(postgresUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const databaseUrl = url.toString();
    const redis = new URL(redisUrl);
    const connection = { host: redis.hostname, port: Number(redis.port || 6379) };
    const db = openDatabase(databaseUrl);
    const outbox = createPostgresOutbox(db, { listen: { connectionString: databaseUrl } });
    const publisher = createBullmqPublisher({ queue: queueName, connection });
    const relay = createRelay({ store: outbox, publisher, pollIntervalMs: 200 });
    const queue = new Queue(queueName, { connection });
    const consumer = startOrderEmails({ db, connection, queue: queueName });
    let server: Server;
    let base: string;

    beforeAll(async () => {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
      await migrate(db);
      relay.start();
      server = createOrdersApp({ db, outbox, queue }).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      await relay.stop();
      await consumer.close();
      await publisher.close();
      await outbox.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    });

    const postOrder = (key: string, body: unknown) =>
      fetch(`${base}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });
    const confirmation = async (orderId: string) =>
      (await (await fetch(`${base}/orders/${orderId}/confirmation`)).json()) as {
        state: string;
        emailsSent: number;
      };
    const until = async (check: () => Promise<boolean>) => {
      const giveUpAt = Date.now() + 20_000;
      while (!(await check())) {
        if (Date.now() > giveUpAt) throw new Error('timed out');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    it('a retried POST /orders is one order, one event and one email', async () => {
      const body = { email: 'ana@example.test', totalCents: 1_250 };
      const first = await postOrder('"order-1"', body);
      expect(first.status).toBe(201);
      const created = (await first.json()) as { id: string; eventId: string };
      const retried = await postOrder('"order-1"', body);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      expect(await retried.json()).toEqual(created);

      await until(async () => (await confirmation(created.id)).state === 'COMPLETED');
      expect(await confirmation(created.id)).toMatchObject({ state: 'COMPLETED', emailsSent: 1 });
      const orders = await db.selectFrom('orders').selectAll().execute();
      expect(orders.filter((order) => order.email === 'ana@example.test')).toHaveLength(1);
      // A relay that re-publishes the same event (it died before marking it sent) changes nothing.
      const job = await queue.getJob(created.eventId);
      await publisher.publish([job!.data]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await confirmation(created.id)).emailsSent).toBe(1);
    });

    it('an invalid order is refused and asks for no email', async () => {
      const refused = await postOrder('"order-2"', { email: 'not an address', totalCents: 1 });
      expect(refused.status).toBe(400);
      expect(await outbox.depth()).toBe(0);
    });

    it('a v1 event from the old writer reaches the v2 consumer through the upcaster', async () => {
      const orderId = globalThis.crypto.randomUUID();
      const legacy = OrderCreatedV1.create({ orderId }, { key: orderId });
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('orders')
          .values({ id: orderId, email: '?', total_cents: 0, event_id: legacy.id })
          .execute();
        await outbox.publish(trx, legacy);
      });
      await until(async () => (await confirmation(orderId)).emailsSent === 1);
      const emails = await db
        .selectFrom('emails')
        .selectAll()
        .where('order_id', '=', orderId)
        .execute();
      expect(emails.map((email) => email.address)).toEqual(['lookup@orders.invalid']);
    });
  });
});
