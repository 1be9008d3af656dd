/** `pnpm consumer`: sends order confirmations, exactly once each. Run as many as you like. */
import { defaultDatabaseUrl, migrate, openDatabase } from './database.js';
import { startOrderEmails } from './order-emails.js';

const db = openDatabase(process.env.DATABASE_URL ?? defaultDatabaseUrl);
await migrate(db);
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const consumer = startOrderEmails({
  db,
  connection: { host: redis.hostname, port: Number(redis.port || 6379) },
  logger: {
    debug: () => {},
    info: (fields, message) => console.log(message, fields),
    warn: (fields, message) => console.warn(message, fields),
    error: (fields, message) => console.error(message, fields),
  },
});
await consumer.waitUntilReady();
console.log('order-emails consumer running');

process.once('SIGTERM', async () => {
  await consumer.close();
  await db.destroy();
  process.exit(0);
});
