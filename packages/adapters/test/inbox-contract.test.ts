/** The inbox contract on the memory inbox (core) and the Postgres inbox on a real server. */
import { createPostgresInbox, migrateInbox } from '@ballast/adapters/postgres';
import { MemoryInboxStore } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { describeInboxContract } from './support/inbox-contract.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

describeInboxContract('MemoryInboxStore', () => new MemoryInboxStore());

describeWith('postgres', 'Postgres inbox contract', () => {
  const schema = uniqueSchemaName('inbox_contract');
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: postgresUrl, max: 10 }) }),
  });
  beforeAll(async () => {
    await migrateInbox(db, { schema });
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });
  describeInboxContract('Postgres', () => createPostgresInbox(db, { schema }));
});
