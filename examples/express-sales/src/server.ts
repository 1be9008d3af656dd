/**
 * `pnpm --filter @ballast-examples/express-sales start`: the sales API on http://127.0.0.1:3000
 * (PORT to change it), on an embedded PGlite unless DATABASE_URL points at a Postgres server.
 */
import { createSalesApp } from './app.js';
import { openDatabase } from './database.js';

const port = Number(process.env.PORT ?? 3000);
const { db, description } = await openDatabase(process.env.DATABASE_URL);
const app = createSalesApp({ db });

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`express-sales listening on http://127.0.0.1:${port} (${description})`);
  console.log('Try it (run the POST twice: the second answer is the replay):');
  console.log(
    `  curl -i -X POST http://127.0.0.1:${port}/sales -H 'Content-Type: application/json' -H 'Idempotency-Key: "sale-0001"' -d '{"item":"coffee","quantity":2,"unitPriceCents":350}'`,
  );
  console.log(`  curl http://127.0.0.1:${port}/sales`);
});

const shutdown = () => {
  server.close(() => {
    void db.destroy().then(() => process.exit(0));
  });
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
