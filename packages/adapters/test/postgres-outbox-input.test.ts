/**
 * The Postgres outbox refuses at publish what every consumer would dead-letter when it reads the
 * event back (core's envelope check), and refuses a misspelt option instead of silently using
 * the default table.
 */
import { createPostgresOutbox, migrateOutbox } from '@ballast/adapters/postgres';
import { isBallastError } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

describeWith('postgres', 'Postgres outbox input', () => {
  const schema = uniqueSchemaName('outbox_input');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const valid = {
    type: 'order.created.v1',
    id: '4f6c1d8e-9a51-4d7e-8f55-1c2b3a4d5e6f',
    occurredAt: '2026-12-04T10:00:00.000Z',
    payload: { orderId: 'o-1' },
  };

  beforeAll(async () => {
    await migrateOutbox(db, { schema });
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('refuses unknown option keys instead of using the default table', () => {
    expect(() => createPostgresOutbox(db, { schema, table: 'mine' } as never)).toThrow(/table/);
  });

  it.each([
    ['a non-ISO occurredAt', { occurredAt: '1' }],
    ['an English date', { occurredAt: 'December 4, 2026' }],
    ['a newline in the key', { key: 'order-1\nforged log line' }],
    ['a NUL in the id', { id: 'a\u0000b' }],
    ['a line separator in the tenant', { tenantId: 't\u2028x' }],
  ])('refuses %s with INVALID_OPTIONS and stores nothing', async (_, change) => {
    const outbox = createPostgresOutbox(db, { schema });
    const error = await db
      .transaction()
      .execute((trx) => outbox.publish(trx, { ...valid, ...change } as never))
      .catch((e: unknown) => e);
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    expect(await outbox.depth()).toBe(0);
  });

  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  it.each([
    ['a NUL in a payload string', { name: 'a\u0000b' }],
    ['a NUL in a payload key', { 'k\u0000': 1 }],
    ['an unpaired surrogate in the payload', { name: 'a\uD800' }],
    ['a BigInt in the payload', { amount: 1n }],
    ['a cyclic payload', cyclic],
    // JSON leaves these out: the stored event would have no payload, a dead letter everywhere.
    ['a function as the payload', () => 1],
    ['a Symbol as the payload', Symbol('order')],
    ['a payload whose toJSON gives nothing', { toJSON: () => undefined }],
  ])(
    'refuses %s with INVALID_OPTIONS before the insert, so the transaction goes on',
    async (_, payload) => {
      const outbox = createPostgresOutbox(db, { schema });
      const outcome = await db.transaction().execute(async (trx) => {
        const error = await outbox.publish(trx, { ...valid, payload }).catch((e: unknown) => e);
        // Refused before any SQL: the caller's transaction is still usable.
        await sql`SELECT 1`.execute(trx);
        return error;
      });
      expect(outcome).toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'payload' } });
      expect(await outbox.depth()).toBe(0);
    },
  );

  it.each([
    ['a NUL in an id', { ids: ['e-\u0000'] }],
    ['a NUL in the type', { type: 'order.created.v1\u0000' }],
  ])('redrive() refuses %s with INVALID_OPTIONS, not the driver error', async (_, filter) => {
    const outbox = createPostgresOutbox(db, { schema });
    const error = await outbox.redrive(filter).catch((e: unknown) => e);
    expect(isBallastError(error, 'INVALID_OPTIONS'), String(error)).toBe(true);
  });

  it('redrive() since an instant before any timestamp Postgres holds redrives every dead letter', async () => {
    const outbox = createPostgresOutbox(db, { schema });
    // Was a raw "timestamp out of range" (22008) from the driver.
    await expect(outbox.redrive({ since: new Date(-8.64e15) })).resolves.toBe(0);
  });

  it('stores a payload whose text merely spells an escape, and emoji', async () => {
    const outbox = createPostgresOutbox(db, { schema });
    const payload = { text: '\\u0000 and \\ud800 and \u{1F600}' };
    const id = '4f6c1d8e-9a51-4d7e-8f55-1c2b3a4d5e70';
    await db.transaction().execute((trx) => outbox.publish(trx, { ...valid, id, payload }));
    const { rows } = await sql<{ event: { payload: unknown } }>`
      SELECT event FROM ${sql.id(schema, 'ballast_outbox')} WHERE id = ${id}`.execute(db);
    expect(rows[0]?.event.payload).toEqual(payload);
    await sql`DELETE FROM ${sql.id(schema, 'ballast_outbox')}`.execute(db);
  });

  it('stores a valid envelope', async () => {
    const outbox = createPostgresOutbox(db, { schema });
    await db.transaction().execute((trx) => outbox.publish(trx, valid));
    expect(await outbox.depth()).toBe(1);
  });
});
