/**
 * The Postgres inbox opens its transaction and writes its mark in one round trip
 * (`inbox-one-trip.ts`): one statement before the handler instead of BEGIN and the mark, with
 * the handler still in a real Kysely transaction that commits or rolls back with the mark, and
 * values that cannot be inlined safely taking the plain path.
 */
import { createPostgresInbox, migrateInbox } from '@ballast/adapters/postgres';
import { isBallastError } from '@ballast/core';
import { Kysely, PostgresDialect, sql, Transaction } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPGlite } from './support/fresh-pglite.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

describeWith('postgres', 'Postgres inbox in one round trip', () => {
  const schema = uniqueSchemaName('inbox_one_trip');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
  const sent: string[] = [];
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      sent.push(event.query.sql);
    },
  });
  const effects = sql.id(schema, 'effects');
  const marks = (eventId: string) =>
    sql<{
      n: string;
    }>`SELECT count(*) AS n FROM ${sql.id(schema, 'ballast_inbox')} WHERE event_id = ${eventId}`
      .execute(db)
      .then(({ rows }) => Number(rows[0]?.n));

  beforeAll(async () => {
    await migrateInbox(db, { schema });
    await sql`CREATE TABLE ${effects} (event_id text NOT NULL)`.execute(db);
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('sends one statement before the handler starts, and the mark commits with the effect', async () => {
    const inbox = createPostgresInbox(db, { schema });
    sent.length = 0;
    let before = -1;
    const outcome = await inbox.runOnce({ consumer: 'c', eventId: 'e-one-trip' }, async (trx) => {
      before = sent.length;
      await sql`INSERT INTO ${effects} (event_id) VALUES ('e-one-trip')`.execute(trx);
      return 'done';
    });
    expect(outcome).toEqual({ kind: 'ran', value: 'done' });
    expect(before).toBe(1);
    // BEGIN and the mark, the effect, COMMIT.
    expect(sent).toHaveLength(3);
    expect(await marks('e-one-trip')).toBe(1);
    expect(
      (await inbox.runOnce({ consumer: 'c', eventId: 'e-one-trip' }, async () => 1)).kind,
    ).toBe('duplicate');
  });

  it('hands the handler a Kysely transaction that refuses nesting and use after it returned', async () => {
    const inbox = createPostgresInbox(db, { schema });
    let kept: Transaction<unknown> | undefined;
    await inbox.runOnce({ consumer: 'c', eventId: 'e-kind' }, async (trx) => {
      expect(trx).toBeInstanceOf(Transaction);
      expect(trx.isTransaction).toBe(true);
      expect(() => trx.transaction()).toThrow();
      kept = trx;
    });
    const late = await sql`SELECT 1`.execute(kept!).catch((error: unknown) => error);
    expect(isBallastError(late, 'INVALID_OPTIONS')).toBe(true);
  });

  it('rolls the mark back with a failed handler, so the redelivery runs', async () => {
    const inbox = createPostgresInbox(db, { schema });
    const ref = { consumer: 'c', eventId: 'e-fails' };
    await expect(
      inbox.runOnce(ref, async (trx) => {
        await sql`INSERT INTO ${effects} (event_id) VALUES ('e-fails')`.execute(trx);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await marks('e-fails')).toBe(0);
    expect((await inbox.runOnce(ref, async () => 'ok')).kind).toBe('ran');
  });

  it('makes a concurrent delivery wait for the first and answer duplicate', async () => {
    const inbox = createPostgresInbox(db, { schema });
    const ref = { consumer: 'c', eventId: 'e-concurrent' };
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let runs = 0;
    const first = inbox.runOnce(ref, async () => {
      runs += 1;
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = inbox.runOnce(ref, async () => {
      runs += 1;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    expect((await first).kind).toBe('ran');
    expect((await second).kind).toBe('duplicate');
    expect(runs).toBe(1);
  });

  it('keeps quotes, backslashes and non-ASCII names as data', async () => {
    const inbox = createPostgresInbox(db, { schema });
    for (const consumer of ["o'brien'); DROP TABLE x; --", 'back\\slash', 'café']) {
      const ref = { consumer, eventId: `e-${consumer}` };
      expect((await inbox.runOnce(ref, async () => 1)).kind).toBe('ran');
      expect((await inbox.runOnce(ref, async () => 1)).kind).toBe('duplicate');
      const { rows } = await sql<{ consumer: string }>`
        SELECT consumer FROM ${sql.id(schema, 'ballast_inbox')} WHERE event_id = ${ref.eventId}`.execute(
        db,
      );
      expect(rows.map((row) => row.consumer)).toEqual([consumer]);
    }
  });

  it('says an unmigrated inbox is not migrated', async () => {
    const inbox = createPostgresInbox(db, { schema: `${schema}_missing` });
    const error = await inbox
      .runOnce({ consumer: 'c', eventId: 'e-missing' }, async () => 1)
      .catch((e: unknown) => e);
    expect(isBallastError(error, 'OUTBOX_NOT_MIGRATED')).toBe(true);
  });
});

describe('Postgres inbox on a driver that prepares every statement (PGlite)', () => {
  it('falls back to a plain transaction and keeps the guarantee', async () => {
    const db = new Kysely<unknown>({ dialect: new PGliteDialect(freshPGlite()) });
    try {
      await migrateInbox(db);
      await sql`CREATE TABLE effects (event_id text NOT NULL)`.execute(db);
      const inbox = createPostgresInbox(db);
      for (const eventId of ['e-1', 'e-2']) {
        const ref = { consumer: 'c', eventId };
        const outcome = await inbox.runOnce(ref, async (trx) => {
          await sql`INSERT INTO effects (event_id) VALUES (${eventId})`.execute(trx);
          return eventId;
        });
        expect(outcome).toEqual({ kind: 'ran', value: eventId });
        expect((await inbox.runOnce(ref, async () => 1)).kind).toBe('duplicate');
      }
      await expect(
        inbox.runOnce({ consumer: 'c', eventId: 'e-3' }, async () => {
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect((await inbox.runOnce({ consumer: 'c', eventId: 'e-3' }, async () => 1)).kind).toBe(
        'ran',
      );
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM effects`.execute(db);
      expect(rows[0]?.n).toBe(2);
    } finally {
      await db.destroy();
    }
  });
});
