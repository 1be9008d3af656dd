/**
 * withIdempotency() in three round trips (`idempotency-one-trip.ts`): `BEGIN` with the claim,
 * the operation, the completion with `COMMIT`. Other answers of the claim arrive as a raised
 * error and must answer exactly as the two-step path does; a completion that matches no row must
 * never commit; values that cannot be inlined, drivers that refuse several commands in one
 * message, and tables migrated before the transaction-bound functions take the two-step path.
 */
import {
  migrateIdempotency,
  PostgresIdempotencyStore,
  withIdempotency,
} from '@ballast/adapters/postgres';
import { isBallastError, ManualClock } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshPGlite } from './support/fresh-pglite.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

/** A Kysely instance that keeps every message it sends (one per `executeQuery`). */
function recorded(dialect: ConstructorParameters<typeof Kysely>[0]['dialect']) {
  const sent: string[] = [];
  const db = new Kysely<unknown>({
    dialect,
    log: (event) => {
      sent.push(event.query.sql);
    },
  });
  /** The messages `run` sent. */
  const messagesOf = async (run: () => Promise<unknown>) => {
    sent.length = 0;
    await run();
    return [...sent];
  };
  return { db, messagesOf, sent };
}

describeWith('postgres', 'withIdempotency in one round trip per end', () => {
  const schema = uniqueSchemaName('idem_one_trip');
  const { db, messagesOf, sent } = recorded(
    new PostgresDialect({ pool: new pg.Pool({ connectionString: postgresUrl, max: 6 }) }),
  );
  const sales = sql.id(schema, 'sales');
  const keys = sql.id(schema, 'ballast_idempotency_keys');
  let n = 0;
  const freshKey = () => `one-trip-${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const recordSale = (key: string) => async (trx: Kysely<unknown>) => {
    const { rows } = await sql<{ id: number }>`
      INSERT INTO ${sales} (key) VALUES (${key}) RETURNING id`.execute(trx);
    return { saleId: rows[0]?.id };
  };
  const count = async (table: typeof sales, key: string) => {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${table} WHERE key = ${key}`.execute(db);
    return Number(rows[0]?.n);
  };

  beforeAll(async () => {
    await migrateIdempotency(db, { schema });
    await sql`CREATE TABLE ${sales} (id serial PRIMARY KEY, key text NOT NULL)`.execute(db);
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('sends three messages for a first execution and two for a replay', async () => {
    const key = freshKey();
    let first: unknown;
    const firstRun = await messagesOf(async () => {
      first = await withIdempotency(db, { key, fingerprint: 'fp', schema }, recordSale(key));
    });
    expect(firstRun).toHaveLength(3);
    expect(firstRun[0]).toMatch(/^BEGIN; CALL .*_tx_claim"\(/);
    expect(firstRun[1]).toMatch(/^\s*INSERT INTO/);
    expect(firstRun[2]).toMatch(/^CALL .*_tx_complete"\(.*; COMMIT$/s);
    expect(first).toMatchObject({ replayed: false });
    expect(await count(sales, key)).toBe(1);
    expect(await count(keys, key)).toBe(1);

    let replay: unknown;
    const operation = vi.fn(recordSale(key));
    const replayRun = await messagesOf(async () => {
      replay = await withIdempotency(db, { key, fingerprint: 'fp', schema }, operation);
    });
    expect(replayRun).toHaveLength(2);
    expect(replayRun[1]).toBe('ROLLBACK');
    expect(operation).not.toHaveBeenCalled();
    expect(replay).toEqual({ replayed: true, result: (first as { result: unknown }).result });
    expect(await count(sales, key)).toBe(1);
  });

  it('answers a reused key 422 and a key in flight 409, as the two-step path does', async () => {
    const key = freshKey();
    await withIdempotency(db, { key, fingerprint: 'fp-a', schema }, recordSale(key));
    const operation = vi.fn(recordSale(key));
    let reused: unknown;
    const reuseRun = await messagesOf(async () => {
      reused = await withIdempotency(db, { key, fingerprint: 'fp-b', schema }, operation).catch(
        (error: unknown) => error,
      );
    });
    expect(reuseRun).toHaveLength(2);
    expect(isBallastError(reused, 'IDEMPOTENCY_KEY_REUSED')).toBe(true);

    const held = freshKey();
    const clock = new ManualClock(Date.now());
    await new PostgresIdempotencyStore({ db, schema }).claim({
      scope: 'shop',
      key: held,
      fingerprint: 'fp',
      ownerToken: 'http-holder',
      now: clock.now(),
      leaseExpiresAt: clock.now() + 4_500,
      expiresAt: clock.now() + 3_600_000,
    });
    let inFlight: unknown;
    const inFlightRun = await messagesOf(async () => {
      inFlight = await withIdempotency(
        db,
        { key: held, scope: 'shop', fingerprint: 'fp', schema, clock },
        operation,
      ).catch((error: unknown) => error);
    });
    expect(inFlightRun).toHaveLength(2);
    expect(isBallastError(inFlight, 'IDEMPOTENCY_IN_FLIGHT')).toBe(true);
    expect(isBallastError(inFlight) && inFlight.details.retryAfterSeconds).toBe(5);
    expect(operation).not.toHaveBeenCalled();
  });

  it('never commits the writes when the completion matches no row', async () => {
    const key = freshKey();
    sent.length = 0;
    const error = await withIdempotency(db, { key, fingerprint: 'fp', schema }, async (trx) => {
      await recordSale(key)(trx);
      // The key's row changes inside the transaction: the completion's owner check fails.
      await sql`UPDATE ${keys} SET owner_token = 'someone else' WHERE key = ${key}`.execute(trx);
      return 'done';
    }).catch((caught: unknown) => caught);
    // The completion went with COMMIT, which never ran: the rollback came after it.
    expect(sent.slice(-2)).toEqual([expect.stringMatching(/_tx_complete.*; COMMIT$/s), 'ROLLBACK']);
    expect(error).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining(key) });
    expect(await count(sales, key)).toBe(0);
    expect(await count(keys, key)).toBe(0);
  });

  it('records and replays results that need another dollar tag, byte for byte', async () => {
    const key = freshKey();
    const result = { text: "it's $v$ a \\ 'quote' é 😀 $v1$ \u0000 ends with $v" };
    const run = await messagesOf(() =>
      withIdempotency(db, { key, fingerprint: 'fp', schema }, async () => result),
    );
    expect(run).toHaveLength(2);
    expect(run[1]).toContain('$v2$');
    const replay = await withIdempotency(db, { key, fingerprint: 'fp', schema }, async () => 0);
    expect(replay).toEqual({ replayed: true, result });
  });

  it('takes the two-step path for values it does not inline, with the same answers', async () => {
    // A backslash only fits a key as the header's quoted string: "back\\slash" is back\slash.
    for (const [header, key, scope] of [
      ['"back\\\\slash"', 'back\\slash', 'global'],
      [freshKey(), undefined, 'café'],
    ] as const) {
      const run = await messagesOf(() =>
        withIdempotency(
          db,
          { key: header, scope, fingerprint: 'fp', schema },
          recordSale(key ?? header),
        ),
      );
      // BEGIN, claim, INSERT, completion, COMMIT.
      expect(run).toHaveLength(5);
      expect(run.some((message) => message.includes('; '))).toBe(false);
      const replay = await withIdempotency(
        db,
        { key: header, scope, fingerprint: 'fp', schema },
        recordSale(key ?? header),
      );
      expect(replay.replayed).toBe(true);
      expect(await count(sales, key ?? header)).toBe(1);
    }
  });

  it('rolls back with a failing operation and lets its error through', async () => {
    const key = freshKey();
    const failure = new Error('payment refused');
    const error = await withIdempotency(db, { key, fingerprint: 'fp', schema }, async (trx) => {
      await recordSale(key)(trx);
      throw failure;
    }).catch((caught: unknown) => caught);
    expect(error).toBe(failure);
    expect(await count(sales, key)).toBe(0);
    expect(await count(keys, key)).toBe(0);
  });

  it('takes the two-step path, for good, on a table migrated before the transaction-bound functions', async () => {
    const tableName = 'before_in_tx';
    await migrateIdempotency(db, { schema, tableName });
    await sql`DROP PROCEDURE ${sql.id(schema, `${tableName}_tx_claim`)}`.execute(db);
    await sql`DROP PROCEDURE ${sql.id(schema, `${tableName}_tx_complete`)}`.execute(db);
    const options = { fingerprint: 'fp', schema, tableName };
    const key = freshKey();
    const first = await messagesOf(async () => {
      expect(await withIdempotency(db, { ...options, key }, recordSale(key))).toMatchObject({
        replayed: false,
      });
    });
    // The refused message and its rollback, then the five of the two-step path.
    expect(first).toHaveLength(7);
    const second = await messagesOf(async () => {
      expect(await withIdempotency(db, { ...options, key }, recordSale(key))).toMatchObject({
        replayed: true,
      });
    });
    expect(second).toHaveLength(3);
    expect(second[0]).toBe('begin');
    expect(await count(sales, key)).toBe(1);
  });
});

describe('withIdempotency on a driver that refuses several commands in one message (PGlite)', () => {
  it('takes the two-step path after the first refusal and keeps every answer', async () => {
    const { db, messagesOf } = recorded(new PGliteDialect(freshPGlite()));
    try {
      await migrateIdempotency(db);
      await sql`CREATE TABLE sales (key text NOT NULL)`.execute(db);
      const sell = (key: string) => async (trx: Kysely<unknown>) => {
        await sql`INSERT INTO sales (key) VALUES (${key})`.execute(trx);
        return { key };
      };
      const first = await messagesOf(async () => {
        expect(await withIdempotency(db, { key: 'k1', fingerprint: 'fp' }, sell('k1'))).toEqual({
          replayed: false,
          result: { key: 'k1' },
        });
      });
      expect(first[0]).toMatch(/^BEGIN; CALL/);
      expect(first.slice(2)).toHaveLength(5);
      const later = await messagesOf(async () => {
        expect(await withIdempotency(db, { key: 'k2', fingerprint: 'fp' }, sell('k2'))).toEqual({
          replayed: false,
          result: { key: 'k2' },
        });
        expect(await withIdempotency(db, { key: 'k1', fingerprint: 'fp' }, sell('k1'))).toEqual({
          replayed: true,
          result: { key: 'k1' },
        });
      });
      expect(later.some((message) => message.includes('; '))).toBe(false);
      const reused = await withIdempotency(
        db,
        { key: 'k1', fingerprint: 'other' },
        sell('k1'),
      ).catch((error: unknown) => error);
      expect(isBallastError(reused, 'IDEMPOTENCY_KEY_REUSED')).toBe(true);
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sales`.execute(db);
      expect(rows[0]?.n).toBe(2);
    } finally {
      await db.destroy();
    }
  });
});
