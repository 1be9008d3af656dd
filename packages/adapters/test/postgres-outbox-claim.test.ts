/**
 * How the Postgres outbox claims: one statement through the table's claim function, which sees
 * a claim that committed while it waited for the lock (per-key order across relays); and a table
 * migrated before the function existed, which still claims, in a transaction.
 */
import {
  createPostgresOutbox,
  migrateOutbox,
  outboxMigrationSql,
} from '@ballast/adapters/postgres';
import { defineEvent, type Logger, noopLogger } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { until } from './support/eventually.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

const Step = defineEvent('step.done', 1, z.object({ n: z.number() }));

describeWith('postgres', 'Postgres outbox claims', () => {
  const schema = uniqueSchemaName('outbox_claim');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 8 });
  const statements: string[] = [];
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      statements.push(event.query.sql);
    },
  });
  let tables = 0;

  /** A fresh table holding `keys.length` events, one per entry (`undefined`: no key). */
  async function tableWith(keys: (string | undefined)[], logger: Logger = noopLogger) {
    tables += 1;
    const tableName = `claim_${tables}`;
    await migrateOutbox(db, { schema, tableName });
    const outbox = createPostgresOutbox(db, { schema, tableName, logger });
    const events = keys.map((key, n) => Step.create({ n }, key === undefined ? {} : { key }));
    await db.transaction().execute((trx) => outbox.publishMany(trx, events));
    return { outbox, tableName, events };
  }

  const claimBy = (owner: string, limit: number) => ({
    owner,
    limit,
    now: Date.now(),
    leaseExpiresAt: Date.now() + 60_000,
  });

  beforeAll(async () => {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('claims a batch in one statement, in position order, leased to the claimer', async () => {
    const { outbox, tableName, events } = await tableWith([undefined, 'a', undefined]);
    statements.length = 0;
    const claimed = await outbox.claim(claimBy('relay-1', 10));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain(`"${tableName}_claim"`);
    expect(claimed.map((entry) => entry.event.id)).toEqual(events.map((event) => event.id));
    expect(claimed.every((entry) => entry.attempts === 0)).toBe(true);
    const { rows } = await sql<{ owner_token: string | null }>`
      SELECT owner_token FROM ${sql.id(schema, tableName)}`.execute(db);
    expect(rows.map((row) => row.owner_token)).toEqual(['relay-1', 'relay-1', 'relay-1']);
    expect(await outbox.claim(claimBy('relay-2', 10))).toEqual([]);
  });

  it('sees a claim that committed while it waited for the lock: no later row of that key', async () => {
    const { outbox, tableName, events } = await tableWith(['k', 'k', undefined]);
    const table = sql.id(schema, tableName);
    let waiting: Promise<readonly { event: { id: string } }[]> | undefined;
    // Another relay's claim, in flight: it holds the lock and has leased the key's first row.
    await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`ballast:outbox:${schema}.${tableName}`}))`.execute(
        trx,
      );
      await sql`UPDATE ${table} SET owner_token = 'other', lease_expires_at = now() + interval '1 minute'
        WHERE id = ${events[0]?.id ?? ''}`.execute(trx);
      waiting = outbox.claim(claimBy('relay-1', 10));
      // Outside the transaction: it would keep reading its first look at pg_stat_activity.
      await until(async () => {
        const { rows } = await sql<{ n: string }>`
          SELECT count(*) AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND query LIKE ${`%${tableName}_claim%`}`.execute(db);
        return Number(rows[0]?.n) > 0;
      }, 5_000);
    });
    const claimed = await waiting;
    // The key's second row must wait for the first; a claim reading a snapshot from before the
    // lock would have taken it.
    expect(claimed?.map((entry) => entry.event.id)).toEqual([events[2]?.id]);
  });

  it('commits a claim without waiting for the WAL flush, in its own transaction only', async () => {
    const { tableName } = await tableWith([undefined]);
    const claimFunction = sql.id(schema, `${tableName}_claim`);
    // The claim function sets it for the transaction it runs in: shown here by running it in one.
    const inClaim = await db.transaction().execute(async (trx) => {
      await sql`SELECT * FROM ${claimFunction}('relay-1', 10, now(), now() + interval '1 minute')`.execute(
        trx,
      );
      const { rows } = await sql<{ synchronous_commit: string }>`SHOW synchronous_commit`.execute(
        trx,
      );
      return rows[0]?.synchronous_commit;
    });
    expect(inClaim).toBe('off');
    const { rows } = await sql<{ synchronous_commit: string }>`SHOW synchronous_commit`.execute(db);
    expect(rows[0]?.synchronous_commit).toBe('on');
  });

  it('outboxMigrationSql() creates the claim function too, applied as one script', async () => {
    const tableName = 'by_script';
    await sql.raw(outboxMigrationSql({ schema, tableName })).execute(db);
    const outbox = createPostgresOutbox(db, { schema, tableName });
    await db.transaction().execute((trx) => outbox.publish(trx, Step.create({ n: 1 })));
    statements.length = 0;
    expect(await outbox.claim(claimBy('relay-1', 10))).toHaveLength(1);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain(`"${tableName}_claim"`);
  });

  it('a table migrated before the claim function still claims, in a transaction, and says so once', async () => {
    const warn = vi.fn();
    const logger: Logger = { ...noopLogger, warn };
    const { outbox, tableName, events } = await tableWith(['k', 'k', undefined, 'j'], logger);
    await sql`DROP FUNCTION ${sql.id(schema, `${tableName}_claim`)}`.execute(db);
    const first = await outbox.claim(claimBy('relay-1', 1));
    expect(first.map((entry) => entry.event.id)).toEqual([events[0]?.id]);
    statements.length = 0;
    const second = await outbox.claim(claimBy('relay-2', 10));
    // Not the key's second row: its first is leased to relay-1.
    expect(second.map((entry) => entry.event.id)).toEqual([events[2]?.id, events[3]?.id]);
    expect(statements.some((text) => text.includes('pg_advisory_xact_lock'))).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[1])).toContain('migrateOutbox()');
  });
});
