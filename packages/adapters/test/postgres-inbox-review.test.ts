/**
 * Review findings on the Postgres inbox: a misspelt option must not silently fall back to the
 * default table, and a handler's own "missing table" error is the handler's, not a missing inbox.
 */
import { createPostgresInbox, migrateInbox } from '@ballast/adapters/postgres';
import { isBallastError } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

describeWith('postgres', 'Postgres inbox (review)', () => {
  const schema = uniqueSchemaName('inbox_review');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });

  beforeAll(async () => {
    await migrateInbox(db, { schema });
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('refuses unknown option keys instead of using the default table', () => {
    expect(() => createPostgresInbox(db, { schema, table: 'mine' } as never)).toThrow(/table/);
    expect(() => createPostgresInbox(db, { schmea: schema } as never)).toThrow(/schmea/);
  });

  it("leaves a handler's own undefined-table error as it is, and rolls the mark back", async () => {
    const inbox = createPostgresInbox(db, { schema });
    const ref = { consumer: 'c', eventId: 'e-handler-bug' };
    const error = await inbox
      .runOnce(ref, async (trx) => {
        await sql`INSERT INTO ${sql.id(schema, 'no_such_table')} VALUES (1)`.execute(trx);
      })
      .catch((e: unknown) => e);
    expect(isBallastError(error, 'OUTBOX_NOT_MIGRATED')).toBe(false);
    expect((error as { code?: string }).code).toBe('42P01');
    // The mark rolled back with the failed effect: the redelivery runs.
    expect((await inbox.runOnce(ref, async () => 'ok')).kind).toBe('ran');
  });

  it('refuses a consumer or event id Postgres cannot keep apart or store, with INVALID_OPTIONS', async () => {
    const inbox = createPostgresInbox(db, { schema });
    // A NUL is refused by Postgres (a raw 22021 error); a lone surrogate is stored as U+FFFD, so
    // e-\ud800 and e-\udbff were one mark and the second event was skipped as a duplicate.
    for (const ref of [
      { consumer: 'c', eventId: 'e-\u0000' },
      { consumer: 'c\u0000', eventId: 'e-1' },
      { consumer: 'c', eventId: 'e-\ud800' },
      { consumer: 'c-\udc00', eventId: 'e-1' },
    ]) {
      let ran = false;
      const error = await inbox
        .runOnce(ref, async () => {
          ran = true;
        })
        .catch((e: unknown) => e);
      expect(isBallastError(error, 'INVALID_OPTIONS'), JSON.stringify(ref)).toBe(true);
      expect(ran).toBe(false);
    }
    expect(
      (await inbox.runOnce({ consumer: 'c', eventId: 'e-\u{1f600}' }, async () => 1)).kind,
    ).toBe('ran');
  });

  it('prune() before an instant earlier than any mark deletes nothing, without a driver error', async () => {
    const inbox = createPostgresInbox(db, { schema });
    // Was a raw "timestamp out of range" (22008): a timestamptz holds nothing before 4713 BC.
    await expect(inbox.prune({ before: new Date(-8.64e15) })).resolves.toBe(0);
  });
});
