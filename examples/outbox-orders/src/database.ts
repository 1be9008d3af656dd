/**
 * The example's Postgres: orders, the emails the consumer "sent", and Ballast's own tables (the
 * idempotency keys of POST /orders, the outbox and the inbox), all in one database so the
 * order, its event and its key commit together, and the email and its inbox mark commit
 * together. Every process (API, consumer) shares it, so it is a real Postgres: `DATABASE_URL`.
 */
import {
  guardPostgresPool,
  migrateIdempotency,
  migrateInbox,
  migrateOutbox,
} from '@ballast/adapters/postgres';
import { type Generated, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

export interface OrdersDatabase {
  orders: {
    id: string;
    email: string;
    /** The id of its `order.created` event: the key to its confirmation's status. */
    event_id: string;
    total_cents: number;
    created_at: Generated<Date>;
  };
  emails: {
    order_id: string;
    address: string;
    sent_at: Generated<Date>;
  };
}

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

export function openDatabase(databaseUrl: string): Kysely<OrdersDatabase> {
  return new Kysely<OrdersDatabase>({
    // Guarded: a Postgres restart fails running queries instead of crashing the process.
    dialect: new PostgresDialect({
      pool: guardPostgresPool(new pg.Pool({ connectionString: databaseUrl })),
    }),
  });
}

/** Creates every table; safe to run from every process at start-up. */
export async function migrate(db: Kysely<OrdersDatabase>): Promise<void> {
  await migrateIdempotency(db);
  await migrateOutbox(db);
  await migrateInbox(db);
  await sql`
    CREATE TABLE IF NOT EXISTS orders (
      id          text PRIMARY KEY,
      email       text NOT NULL,
      event_id    text NOT NULL,
      total_cents integer NOT NULL CHECK (total_cents >= 0),
      created_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // No unique key on order_id: a doubled email would show as two rows, not as an error.
  await sql`
    CREATE TABLE IF NOT EXISTS emails (
      order_id text NOT NULL,
      address  text NOT NULL,
      sent_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}
