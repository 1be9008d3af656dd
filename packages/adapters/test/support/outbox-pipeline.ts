/**
 * The pieces of the outbox pipeline that the multi-process tests, the example and the bench
 * share, wired the same way everywhere: the Postgres outbox and inbox in a schema of their
 * own, a BullMQ publisher and consumer on either backend, and the "effect" every test counts
 * (one `effects` row per handled event, written in the inbox's transaction, with no unique key
 * so that a doubled effect shows up as two rows instead of an error).
 */
import type { BullmqBackend, BullmqConnection } from '@ballast/adapters/bullmq';
import {
  createPostgresInbox,
  createPostgresOutbox,
  migrateInbox,
  migrateOutbox,
} from '@ballast/adapters/postgres';
import { createEventCatalog, defineEvent } from '@ballast/core';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { z } from 'zod';

export const TaskRequested = defineEvent(
  'task.requested',
  1,
  z.object({ n: z.number().int(), group: z.string() }),
);
export const pipelineCatalog = createEventCatalog({ events: [TaskRequested] });

export interface PipelineConfig {
  readonly databaseUrl: string;
  /** Schema of the outbox, the inbox and the effects table. */
  readonly schema: string;
  readonly queue: string;
  readonly backend: BullmqBackend;
  readonly connection: BullmqConnection;
}

// biome-ignore lint/suspicious/noExplicitAny: the tests' tables are created at run time.
export type PipelineDb = Kysely<any>;

// biome-ignore lint/suspicious/noExplicitAny: as above.
export type PipelineTransaction = Transaction<any>;

export function openDb(config: PipelineConfig, max = 10): PipelineDb {
  return new Kysely({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: config.databaseUrl, max }),
    }),
  });
}

/** The outbox; with `listen`, relays are woken by NOTIFY on commit (a LISTEN connection). */
export function outboxOf(db: PipelineDb, config: PipelineConfig, listen = false) {
  return createPostgresOutbox(db, {
    schema: config.schema,
    ...(listen ? { listen: { connectionString: config.databaseUrl } } : {}),
  });
}

export function inboxOf(db: PipelineDb, config: PipelineConfig) {
  return createPostgresInbox(db, { schema: config.schema });
}

/** Creates the schema, the outbox and inbox tables and the effects table. */
export async function preparePipeline(db: PipelineDb, config: PipelineConfig): Promise<void> {
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(config.schema)}`.execute(db);
  await migrateOutbox(db, { schema: config.schema });
  await migrateInbox(db, { schema: config.schema });
  await sql`CREATE TABLE IF NOT EXISTS ${sql.id(config.schema, 'effects')} (
    event_id text NOT NULL,
    pid integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
}

export async function recordEffect(
  trx: PipelineDb,
  config: PipelineConfig,
  eventId: string,
): Promise<void> {
  await sql`INSERT INTO ${sql.id(config.schema, 'effects')} (event_id, pid) VALUES (${eventId}, ${process.pid})`.execute(
    trx,
  );
}

export async function dropPipeline(db: PipelineDb, config: PipelineConfig): Promise<void> {
  await sql`DROP SCHEMA IF EXISTS ${sql.id(config.schema)} CASCADE`.execute(db);
}
