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
    /** Set when the sale is voided (soft delete); `NULL` while it counts. */
    deleted_at: Date | null;
  };
  /** One-time codes a new till enrols with, valid until `expires_at`. */
  enrolment_codes: {
    code: string;
    expires_at: Date;
    used_at: Date | null;
  };
  tills: {
    id: Generated<number>;
    name: string;
    created_at: Generated<Date>;
  };
  /** Each till's cash drawer, created right after the till (`POST /tills`). */
  till_drawers: {
    till_id: number;
    float_cents: number;
  };
}

export interface Database {
  readonly db: Kysely<SalesDatabase>;
  /** Where the data lives, for the start-up message. */
  readonly description: string;
}

/**
 * Opens the database and creates the tables: Postgres at `source` when it is a URL, the PGlite
 * given (the tests pass one started from a copy of an initialised data directory), else a new
 * PGlite in memory.
 */
export async function openDatabase(source?: string | PGlite): Promise<Database> {
  const databaseUrl = typeof source === 'string' ? source : undefined;
  const db = databaseUrl
    ? new Kysely<SalesDatabase>({
        // Guarded: a Postgres restart fails running queries instead of crashing the process.
        dialect: new PostgresDialect({
          pool: guardPostgresPool(new pg.Pool({ connectionString: databaseUrl })),
        }),
      })
    : new Kysely<SalesDatabase>({
        dialect: new PGliteDialect(typeof source === 'object' ? source : new PGlite()),
      });
  await migrateIdempotency(db);
  await sql`
    CREATE TABLE IF NOT EXISTS sales (
      id               serial PRIMARY KEY,
      item             text        NOT NULL,
      quantity         integer     NOT NULL CHECK (quantity > 0),
      unit_price_cents integer     NOT NULL CHECK (unit_price_cents >= 0),
      version          integer     NOT NULL DEFAULT 1,
      created_at       timestamptz NOT NULL DEFAULT now(),
      deleted_at       timestamptz
    )`.execute(db);
  // A database created by an earlier version of the example has no deleted_at yet.
  await sql`ALTER TABLE sales ADD COLUMN IF NOT EXISTS deleted_at timestamptz`.execute(db);
  await sql`
    CREATE TABLE IF NOT EXISTS enrolment_codes (
      code       text        PRIMARY KEY,
      expires_at timestamptz NOT NULL,
      used_at    timestamptz
    )`.execute(db);
  await sql`
    CREATE TABLE IF NOT EXISTS tills (
      id         serial      PRIMARY KEY,
      name       text        NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE IF NOT EXISTS till_drawers (
      till_id     integer PRIMARY KEY REFERENCES tills (id) ON DELETE CASCADE,
      float_cents integer NOT NULL CHECK (float_cents >= 0)
    )`.execute(db);
  const description = databaseUrl
    ? `Postgres at ${new URL(databaseUrl).host}`
    : 'PGlite (embedded, in memory)';
  return { db, description };
}
