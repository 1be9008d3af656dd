/**
 * Where the Postgres adapters' tables live when nobody says: each default table name is pinned,
 * and the store built without `tableName` must use the table its migration created under that
 * name. The migration SQL for your own tool (`inboxMigrationSql()`, `backupRunsMigrationSql()`)
 * must build the same tables. PGlite, so no server is needed.
 */
import {
  backupRunsMigrationSql,
  createPostgresInbox,
  createPostgresOutbox,
  defaultBackupRunsTableName,
  defaultIdempotencyTableName,
  defaultInboxTableName,
  defaultNonceTableName,
  defaultOutboxTableName,
  idempotencyMigrationSql,
  inboxMigrationSql,
  migrateBackupRuns,
  migrateIdempotency,
  migrateInbox,
  migrateNonces,
  migrateOutbox,
  nonceMigrationSql,
  PostgresBackupRunStore,
  PostgresIdempotencyStore,
  PostgresNonceStore,
} from '@ballast/adapters/postgres';
import { defineEvent, isBallastError } from '@ballast/core';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { freshPGlite } from './support/fresh-pglite.js';

// biome-ignore lint/suspicious/noExplicitAny: the tables are created by the migrations under test
let db: Kysely<any>;
// Migration SQL holds several statements, which PGlite runs only outside a prepared statement.
let pglite: PGlite;

beforeAll(async () => {
  pglite = freshPGlite();
  // Started here, under the hook's timeout: left to the first test's first query, loading the
  // data directory on a loaded machine took that test past its 30 s (seen at 43.7 s).
  await pglite.waitReady;
  db = new Kysely({ dialect: new PGliteDialect(pglite) });
});

afterAll(async () => {
  await db.destroy();
});

async function rowsIn(table: string, schema = 'public'): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`
    SELECT count(*) AS n FROM ${sql.table(`${schema}.${table}`)}`.execute(db);
  return Number(rows[0]?.n);
}

async function tableExists(table: string, schema = 'public'): Promise<boolean> {
  const { rows } = await sql<{ n: number | string }>`
    SELECT count(*) AS n FROM information_schema.tables
    WHERE table_schema = ${schema} AND table_name = ${table}`.execute(db);
  return Number(rows[0]?.n) === 1;
}

/** The INVALID_OPTIONS error `run` throws; fails the test when it does not throw one. */
function refusal(run: () => unknown): { message: string; details: { field?: string } } {
  try {
    run();
  } catch (error) {
    if (isBallastError(error, 'INVALID_OPTIONS')) return error as never;
    throw error;
  }
  throw new Error('expected INVALID_OPTIONS');
}

describe('defaultIdempotencyTableName', () => {
  it("is 'ballast_idempotency_keys', where migrateIdempotency() and the store meet by default", async () => {
    expect(defaultIdempotencyTableName).toBe('ballast_idempotency_keys');
    expect(idempotencyMigrationSql()).toContain(`"${defaultIdempotencyTableName}"`);
    await migrateIdempotency(db);
    expect(await tableExists(defaultIdempotencyTableName)).toBe(true);
    const store = new PostgresIdempotencyStore({ db });
    const now = Date.now();
    await store.claim({
      scope: 'tenant-a',
      key: 'k-1',
      fingerprint: 'fp',
      ownerToken: 'owner-1',
      now,
      leaseExpiresAt: now + 30_000,
      expiresAt: now + 86_400_000,
    });
    expect(await rowsIn(defaultIdempotencyTableName)).toBe(1);
  });
});

describe('defaultNonceTableName', () => {
  it("is 'ballast_nonces', where migrateNonces() and the store meet by default", async () => {
    expect(defaultNonceTableName).toBe('ballast_nonces');
    expect(nonceMigrationSql()).toContain(`"${defaultNonceTableName}"`);
    await migrateNonces(db);
    const store = new PostgresNonceStore({ db });
    expect(await store.checkAndStore('nonce-1', Date.now() + 60_000)).toBe(true);
    expect(await store.checkAndStore('nonce-1', Date.now() + 60_000)).toBe(false);
    expect(await rowsIn(defaultNonceTableName)).toBe(1);
  });
});

describe('defaultOutboxTableName', () => {
  it("is 'ballast_outbox', where migrateOutbox() and the outbox meet by default", async () => {
    expect(defaultOutboxTableName).toBe('ballast_outbox');
    await migrateOutbox(db);
    const outbox = createPostgresOutbox(db);
    const Ping = defineEvent('ping', 1, z.object({ n: z.number() }));
    await db.transaction().execute(async (trx) => {
      await outbox.publish(trx, Ping.create({ n: 1 }));
    });
    expect(await rowsIn(defaultOutboxTableName)).toBe(1);
    expect(await outbox.depth()).toBe(1);
  });
});

describe('defaultInboxTableName and inboxMigrationSql', () => {
  it("is 'ballast_inbox', where migrateInbox() and the inbox meet by default", async () => {
    expect(defaultInboxTableName).toBe('ballast_inbox');
    await migrateInbox(db);
    const inbox = createPostgresInbox(db);
    const first = await inbox.runOnce({ consumer: 'emails', eventId: 'e-1' }, async () => 'sent');
    const again = await inbox.runOnce({ consumer: 'emails', eventId: 'e-1' }, async () => 'twice');
    expect([first.kind, again.kind]).toEqual(['ran', 'duplicate']);
    expect(await rowsIn(defaultInboxTableName)).toBe(1);
  });

  it('is DDL for your own migration tool: applied twice it builds a table the inbox works on', async () => {
    const ddl = inboxMigrationSql({ schema: 'tool_inbox', tableName: 'marks' });
    expect(ddl).toContain('CREATE SCHEMA IF NOT EXISTS "tool_inbox"');
    expect(ddl).toContain('CREATE TABLE IF NOT EXISTS "tool_inbox"."marks"');
    await pglite.exec(ddl);
    await pglite.exec(ddl);
    const inbox = createPostgresInbox(db, { schema: 'tool_inbox', tableName: 'marks' });
    await inbox.runOnce({ consumer: 'c', eventId: 'e-9' }, async () => undefined);
    expect((await inbox.runOnce({ consumer: 'c', eventId: 'e-9' }, async () => 1)).kind).toBe(
      'duplicate',
    );
    expect(await rowsIn('marks', 'tool_inbox')).toBe(1);
    expect(inboxMigrationSql()).toContain(`CREATE TABLE IF NOT EXISTS "${defaultInboxTableName}"`);
  });

  it('refuses a table name that is no plain identifier, and unknown keys, naming itself', () => {
    for (const options of [
      { tableName: 'marks; DROP TABLE x' },
      { tableName: 'x'.repeat(49) },
      { tablename: 'marks' },
    ]) {
      const error = refusal(() => inboxMigrationSql(options as never));
      expect(error.message).toContain('inboxMigrationSql()');
    }
  });
});

describe('defaultBackupRunsTableName and backupRunsMigrationSql', () => {
  const run = (id: string) => ({
    id,
    reason: 'manual',
    startedAt: new Date(),
    path: `${id}.dump`,
    offsite: 'none' as const,
  });

  it("is 'ballast_backup_runs', where migrateBackupRuns() and the run store meet by default", async () => {
    expect(defaultBackupRunsTableName).toBe('ballast_backup_runs');
    await migrateBackupRuns(db);
    const runs = new PostgresBackupRunStore({ db });
    await runs.start(run('run-1'));
    expect(await rowsIn(defaultBackupRunsTableName)).toBe(1);
    expect((await runs.get('run-1'))?.status).toBe('running');
  });

  it('is DDL for your own migration tool: applied twice, one running run at a time', async () => {
    const ddl = backupRunsMigrationSql({ schema: 'tool_backups' });
    expect(ddl).toContain(
      `CREATE TABLE IF NOT EXISTS "tool_backups"."${defaultBackupRunsTableName}"`,
    );
    await pglite.exec(ddl);
    await pglite.exec(ddl);
    const runs = new PostgresBackupRunStore({ db, schema: 'tool_backups' });
    await runs.start(run('a'));
    await expect(runs.start(run('b'))).rejects.toMatchObject({ code: 'BACKUP_IN_PROGRESS' });
    await runs.update('a', { status: 'succeeded', finishedAt: new Date() });
    await runs.start(run('b'));
    expect(await rowsIn(defaultBackupRunsTableName, 'tool_backups')).toBe(2);
  });

  it('refuses a table name that is no plain identifier, and unknown keys, naming itself', () => {
    for (const options of [
      { tableName: 'runs"; --' },
      { tableName: 'x'.repeat(41) },
      { tablename: 'runs' },
    ]) {
      const error = refusal(() => backupRunsMigrationSql(options as never));
      expect(error.message).toContain('backupRunsMigrationSql()');
    }
  });
});

describe('table options of every migration', () => {
  it('refuse a misspelt key rather than migrate the default table in its place', () => {
    for (const [name, migrationSql] of [
      ['idempotencyMigrationSql()', idempotencyMigrationSql],
      ['nonceMigrationSql()', nonceMigrationSql],
      ['inboxMigrationSql()', inboxMigrationSql],
      ['backupRunsMigrationSql()', backupRunsMigrationSql],
    ] as const) {
      const error = refusal(() => migrationSql({ tablename: 'custom' } as never));
      expect(error.message, name).toContain(name);
      expect(error.message).toContain('tablename');
    }
  });
});
