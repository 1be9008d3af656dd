/**
 * The outbox contract on both stores: the memory outbox (core) and the Postgres outbox on a
 * real server (a fresh table per test, LISTEN/NOTIFY through a dedicated connection).
 */
import { createPostgresOutbox, migrateOutbox } from '@ballast/adapters/postgres';
import { MemoryOutbox } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { describeOutboxContract } from './support/outbox-contract.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

describeOutboxContract('MemoryOutbox', async () => {
  const outbox = new MemoryOutbox();
  return {
    store: outbox,
    commit: (events) => outbox.transaction((trx) => outbox.publishMany(trx, events)),
    rollBack: async (events) => {
      await outbox
        .transaction(async (trx) => {
          await outbox.publishMany(trx, events);
          throw new Error('roll back');
        })
        .catch(() => undefined);
    },
  };
});

describeWith('postgres', 'Postgres outbox contract', () => {
  const schema = uniqueSchemaName('outbox_contract');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 10 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  let tables = 0;

  beforeAll(async () => {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  describeOutboxContract('Postgres', async () => {
    tables += 1;
    const tableName = `outbox_${tables}`;
    await migrateOutbox(db, { schema, tableName });
    const outbox = createPostgresOutbox(db, {
      schema,
      tableName,
      listen: { connectionString: postgresUrl },
    });
    return {
      store: outbox,
      commit: (events) => db.transaction().execute((trx) => outbox.publishMany(trx, events)),
      rollBack: async (events) => {
        await db
          .transaction()
          .execute(async (trx) => {
            await outbox.publishMany(trx, events);
            throw new Error('roll back');
          })
          .catch(() => undefined);
      },
      close: () => outbox.close(),
    };
  });
});
