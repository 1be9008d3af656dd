/**
 * `pnpm --filter @ballast-examples/offline-pos start`: the till on http://127.0.0.1:3001 (PORT
 * to change it), on an embedded PGlite unless DATABASE_URL points at a Postgres server. Open it,
 * switch the browser to offline (devtools → Network → Offline), register sales, reload, go back
 * online: every sale reaches the server once.
 */
import { openDatabase } from '../../express-sales/src/database.js';
import { bundlePage, createPosApp } from './pos-server.js';

const port = Number(process.env.PORT ?? 3001);
const { db, description } = await openDatabase(process.env.DATABASE_URL);
const app = createPosApp({ db, script: await bundlePage() });
const server = app.listen(port, '127.0.0.1', () => {
  console.log(`offline-pos on http://127.0.0.1:${port} (${description})`);
});
const shutdown = () => server.close(() => void db.destroy().then(() => process.exit(0)));
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
