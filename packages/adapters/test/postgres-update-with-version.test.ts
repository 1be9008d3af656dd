/**
 * Optimistic locking on real Postgres: concurrent edits never both win, the loser learns the
 * winner's version, and the guard is one SQL statement.
 */
import {
  restore,
  softDelete,
  updateWithVersion,
  whereNotDeleted,
} from '@ballast/adapters/postgres';
import {
  isBallastError,
  isVersionConflict,
  ManualClock,
  toProblem,
  VersionConflictError,
} from '@ballast/core';
import { versionETag } from '@ballast/server';
import { type Generated, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

interface Db {
  documents: {
    id: Generated<number>;
    title: string;
    counter: number;
    version: Generated<number>;
    deleted_at: Date | null;
  };
}

describeWith('postgres', 'updateWithVersion on Postgres', () => {
  const schema = uniqueSchemaName('h5_locking');
  const statements: string[] = [];
  let db: Kysely<Db>;
  const table = () => sql.id(schema, 'documents');

  beforeAll(async () => {
    db = new Kysely<Db>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: postgresUrl, max: 10 }),
      }),
      log: (event) => {
        if (event.level === 'query') statements.push(event.query.sql);
      },
    });
    await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
    await sql`CREATE TABLE ${table()} (
      id serial PRIMARY KEY, title text NOT NULL, counter integer NOT NULL DEFAULT 0,
      version integer NOT NULL DEFAULT 1, deleted_at timestamptz)`.execute(db);
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  const insert = async (title: string) => {
    const { rows } = await sql<{ id: number }>`
      INSERT INTO ${table()} (title) VALUES (${title}) RETURNING id`.execute(db);
    return rows[0]?.id as number;
  };
  const read = async (id: number) => {
    const { rows } = await sql<{ title: string; counter: number; version: number }>`
      SELECT title, counter, version FROM ${table()} WHERE id = ${id}`.execute(db);
    return rows[0];
  };

  it('updates, increments the version and returns the row, in exactly one SQL statement', async () => {
    const id = await insert('draft');
    statements.length = 0;
    const row = await updateWithVersion(
      db,
      'documents',
      { id, version: 1 },
      { title: 'final' },
      { schema },
    );
    expect(statements).toHaveLength(1);
    expect(row).toMatchObject({ id, title: 'final', version: 2 });
    expect(await read(id)).toMatchObject({ title: 'final', version: 2 });
  });

  it('tells a stale version (VERSION_CONFLICT with the current version) from a missing row (NOT_FOUND), in one statement each', async () => {
    const id = await insert('a');
    await updateWithVersion(db, 'documents', { id, version: 1 }, { title: 'b' }, { schema });
    statements.length = 0;
    const stale = await updateWithVersion(
      db,
      'documents',
      { id, version: 1 },
      { title: 'c' },
      { schema },
    ).catch((e: unknown) => e);
    expect(statements).toHaveLength(1);
    expect(stale).toBeInstanceOf(VersionConflictError);
    expect(stale).toMatchObject({
      code: 'VERSION_CONFLICT',
      status: 409,
      currentVersion: 2,
      expectedVersion: 1,
    });
    expect(toProblem(stale)).not.toHaveProperty('current');
    expect(await read(id)).toMatchObject({ title: 'b', version: 2 });

    const missing = await updateWithVersion(
      db,
      'documents',
      { id: 999_999, version: 1 },
      { title: 'x' },
      { schema },
    ).catch((e: unknown) => e);
    expect(isBallastError(missing, 'NOT_FOUND')).toBe(true);
  });

  it('carries the current row on the conflict when asked', async () => {
    const id = await insert('mine');
    await updateWithVersion(db, 'documents', { id, version: 1 }, { title: 'theirs' }, { schema });
    const error = await updateWithVersion(
      db,
      'documents',
      { id, version: 1 },
      { title: 'x' },
      { schema, includeCurrent: true },
    ).catch((e: unknown) => e);
    expect(toProblem(error)).toMatchObject({
      currentVersion: 2,
      current: { id, title: 'theirs', version: 2 },
    });
  });

  it('updates any version with an explicit "*" (last-write-wins only when asked)', async () => {
    const id = await insert('a');
    await updateWithVersion(db, 'documents', { id, version: 1 }, { title: 'b' }, { schema });
    const row = await updateWithVersion(
      db,
      'documents',
      { id, version: '*' },
      { title: 'c' },
      { schema },
    );
    expect(row).toMatchObject({ title: 'c', version: 3 });
  });

  it('two concurrent edits of the same version: exactly one wins, the other learns the winner’s version', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await insert('start');
      const outcomes = await Promise.allSettled([
        updateWithVersion(db, 'documents', { id, version: 1 }, { title: 'left' }, { schema }),
        updateWithVersion(db, 'documents', { id, version: 1 }, { title: 'right' }, { schema }),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 2 });
      const winner = (won[0] as PromiseFulfilledResult<{ title: string }>).value.title;
      expect(await read(id)).toMatchObject({ title: winner, version: 2 });
    }
  });

  it('100 concurrent increments with retry-on-conflict end at exactly +100', async () => {
    const id = await insert('counter');
    const increment = async () => {
      for (;;) {
        const row = (await read(id)) as { counter: number; version: number };
        try {
          return await updateWithVersion(
            db,
            'documents',
            { id, version: row.version },
            { counter: row.counter + 1 },
            { schema },
          );
        } catch (error) {
          if (!isVersionConflict(error)) throw error;
          // A little jitter, as a real client backs off, so the retries do not march in step.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
        }
      }
    };
    await Promise.all(Array.from({ length: 100 }, increment));
    expect(await read(id)).toMatchObject({ counter: 100, version: 101 });
  });

  it('a version past the integer column (from a hostile If-Match) is a conflict, not a 500', async () => {
    const id = await insert('range');
    await expect(
      updateWithVersion(db, 'documents', { id, version: 2 ** 31 }, { title: 'x' }, { schema }),
    ).rejects.toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 1 });
    await expect(
      updateWithVersion(
        db,
        'documents',
        { id, version: Number.MAX_SAFE_INTEGER },
        { title: 'x' },
        { schema },
      ),
    ).rejects.toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 1 });
    expect(await read(id)).toMatchObject({ title: 'range', version: 1 });
  });

  it('a bigint version column comes back as a number, as the conflict reports it, so its ETag can be set', async () => {
    // node-postgres returns int8 as a string: the row would say version "2" and versionETag()
    // would refuse it, a 500 on the documented route for a write that succeeded.
    const wide = sql.id(schema, 'wide_documents');
    await sql`CREATE TABLE ${wide} (id bigserial PRIMARY KEY, title text NOT NULL,
      version bigint NOT NULL DEFAULT 1)`.execute(db);
    await sql`INSERT INTO ${wide} (title) VALUES ('draft')`.execute(db);
    const row = await updateWithVersion<{ version: number }>(
      db,
      'wide_documents',
      { id: 1, version: 1 },
      { title: 'final' },
      { schema },
    );
    expect(row.version).toBe(2);
    expect(versionETag(row.version)).toBe('"2"');
    await expect(
      updateWithVersion(db, 'wide_documents', { id: 1, version: 1 }, { title: 'x' }, { schema }),
    ).rejects.toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 2 });
  });

  it('leaves a column given as undefined as it is, as Kysely’s set() does, instead of nulling it', async () => {
    // A PATCH route written `{ title: body.title, counter: body.counter }` passes undefined for
    // every field the client left out; node-postgres sends undefined as NULL, so the omitted
    // fields were erased (or the write refused by NOT NULL), the silent loss locking prevents.
    const id = await insert('kept');
    const row = await updateWithVersion(
      db,
      'documents',
      { id, version: 1 },
      { title: undefined, counter: 5 },
      { schema },
    );
    expect(row).toMatchObject({ title: 'kept', counter: 5, version: 2 });
    await expect(
      updateWithVersion(db, 'documents', { id, version: 2 }, { title: undefined }, { schema }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    expect(await read(id)).toMatchObject({ title: 'kept', counter: 5, version: 2 });
  });

  it('refuses changes to the id or version column and bad input with INVALID_OPTIONS', async () => {
    await expect(
      updateWithVersion(db, 'documents', { id: 1, version: 1 }, { version: 9 }, { schema }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(
      updateWithVersion(db, 'documents', { id: 1, version: 1 }, {}, { schema }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(
      updateWithVersion(db, 'documents; drop table x', { id: 1, version: 1 }, { title: 'x' }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(
      updateWithVersion(db, 'documents', { id: 1, version: -1 }, { title: 'x' }, { schema }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });

  it('soft-deletes, filters and restores rows, with the time from the clock', async () => {
    const clock = new ManualClock(Date.parse('2026-05-01T00:00:00Z'));
    const id = await insert('to hide');
    const live = () =>
      db
        .withSchema(schema)
        .selectFrom('documents')
        .select('id')
        .where('id', '=', id)
        .where(whereNotDeleted())
        .execute();
    expect(await live()).toHaveLength(1);
    expect(await softDelete(db, 'documents', id, { schema, clock })).toBe(true);
    expect(await softDelete(db, 'documents', id, { schema, clock })).toBe(false);
    expect(await live()).toHaveLength(0);
    const { rows } = await sql<{
      deleted_at: Date;
    }>`SELECT deleted_at FROM ${table()} WHERE id = ${id}`.execute(db);
    expect(rows[0]?.deleted_at.toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(await restore(db, 'documents', id, { schema })).toBe(true);
    expect(await live()).toHaveLength(1);
    await expect(softDelete(db, 'documents', 999_999, { schema })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
