/**
 * `pnpm start`: the orders API and a relay in one process (relays may run anywhere, as many as
 * you like: their claims never overlap). Needs Postgres (`DATABASE_URL`) and Redis
 * (`REDIS_URL`); run `pnpm consumer` beside it to send the emails.
 */
import { createBullmqPublisher } from '@ballast/adapters/bullmq';
import { createPostgresOutbox } from '@ballast/adapters/postgres';
import { createRelay } from '@ballast/core';
import { Queue } from 'bullmq';
import { createOrdersApp } from './app.js';
import { defaultDatabaseUrl, migrate, openDatabase } from './database.js';
import { queueName } from './events.js';

const databaseUrl = process.env.DATABASE_URL ?? defaultDatabaseUrl;
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: redis.hostname, port: Number(redis.port || 6379) };

const db = openDatabase(databaseUrl);
await migrate(db);
// NOTIFY on commit wakes the relay at once; without it the relay polls every second.
const outbox = createPostgresOutbox(db, { listen: { connectionString: databaseUrl } });
const publisher = createBullmqPublisher({ queue: queueName, connection });
const relay = createRelay({
  store: outbox,
  publisher,
  on: { depthAlert: ({ depth }) => console.error(`outbox depth ${depth}: is the relay stuck?`) },
});
relay.start();

const queue = new Queue(queueName, { connection });
const port = Number(process.env.PORT ?? 3000);
const server = createOrdersApp({ db, outbox, queue }).listen(port, () => {
  console.log(
    `orders API on http://localhost:${port} (POST /orders, GET /orders/:id/confirmation)`,
  );
});

process.once('SIGTERM', async () => {
  server.close();
  // Finishes the batch in flight (or gives it back), so nothing waits for a lease.
  await relay.stop();
  await Promise.all([publisher.close(), outbox.close(), queue.close()]);
  await db.destroy();
  process.exit(0);
});
