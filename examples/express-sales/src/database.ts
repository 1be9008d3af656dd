/**
 * The example's database: an embedded PGlite by default, so `pnpm start` needs nothing
 * installed, or a real Postgres when `DATABASE_URL` is set. Either way it is Postgres, so the
 * idempotency keys live next to the sales they protect.
 */

import { guardPostgresPool, migrateIdempotency } from '@ballast/adapters/postgres';
import { PGlite } from '@electric-sql/pglite';
import { type Generated, Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';

export interface SalesDatabase {
  sales: {
    id: Generated<number>;
    item: string;
    quantity: number;
    unit_price_cents: number;
    version: Generated<number>;
    created_at: Generated<Date>;
  };
}

export interface Database {
  readonly db: Kysely<SalesDatabase>;
  /** Where the data lives, for the start-up message. */
  readonly description: string;
}

/** Opens the database (PGlite in memory unless `databaseUrl` is given) and creates the tables. */
export async function openDatabase(databaseUrl?: string): Promise<Database> {
  const db = databaseUrl
    ? new Kysely<SalesDatabase>({
        // Guarded: a Postgres restart fails running queries instead of crashing the process.
        dialect: new PostgresDialect({
          pool: guardPostgresPool(new pg.Pool({ connectionString: databaseUrl })),
        }),
      })
    : new Kysely<SalesDatabase>({ dialect: new PGliteDialect(new PGlite()) });
  await migrateIdempotency(db);
  await sql`
    CREATE TABLE IF NOT EXISTS sales (
      id               serial PRIMARY KEY,
      item             text        NOT NULL,
      quantity         integer     NOT NULL CHECK (quantity > 0),
      unit_price_cents integer     NOT NULL CHECK (unit_price_cents >= 0),
      version          integer     NOT NULL DEFAULT 1,
      created_at       timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  const description = databaseUrl
    ? `Postgres at ${new URL(databaseUrl).host}`
    : 'PGlite (embedded, in memory)';
  return { db, description };
}
