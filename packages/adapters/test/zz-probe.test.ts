import { guardPostgresPool, migrateIdempotency, PostgresIdempotencyStore, withIdempotency } from '@ballast/adapters/postgres';
import { createIdempotency } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { it } from 'vitest';
import { postgresUrl, uniqueSchemaName } from './support/services.js';

it('probe', async () => {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: guardPostgresPool(new pg.Pool({ connectionString: postgresUrl, max: 6 })) }) });
  const schema = uniqueSchemaName('probe');
  await migrateIdempotency(db, { schema });
  const store = new PostgresIdempotencyStore({ db, schema });
  const idem = createIdempotency({ store });
  const t0 = Date.now();
  const go = (scope: string, key: string) => idem.run({ scope, key, fingerprint: 'fp' }, async () => 'ok').then((r) => ['ok', r.outcome, Date.now() - t0], (e) => ['err', e.code, e.status, Date.now() - t0]);
  // a transaction-bound holder of (s, K) for 4 s
  const holder = withIdempotency(db, { schema, scope: 's', key: 'K', fingerprint: 'fp' }, async () => { await new Promise((r) => setTimeout(r, 4000)); return 'held'; });
  await new Promise((r) => setTimeout(r, 200));
  const first = [go('a', '1'), go('b', '1')]; // occupy the two in-flight slots briefly
  const rest = [go('s', 'K'), go('c', '1'), go('d', '1'), go('e', '1')];
  console.log(await Promise.all([...first, ...rest]));
  console.log(await holder);
  await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(db);
  await db.destroy();
}, 30000);
