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

interface SalesDatabase {
  sales: { id: number; idempotency_key: string; amount: number };
}

/** The transaction-bound mode's promises, run against one database flavour. */
function transactionBoundSuite(makeDb: () => Kysely<SalesDatabase>, schema?: string) {
  let db: Kysely<SalesDatabase>;
  const sales = () => (schema ? sql.id(schema, 'sales') : sql.id('sales'));
  let n = 0;
  const freshKey = () => `tx-${Date.now()}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    db = makeDb();
    await migrateIdempotency(db, { schema });
    await sql`CREATE TABLE ${sales()} (
      id serial PRIMARY KEY, idempotency_key text NOT NULL, amount integer NOT NULL)`.execute(db);
  });
  afterAll(async () => {
    if (schema) await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  const countSales = async (key: string) => {
    const { rows } = await sql<{ n: number | string }>`
      SELECT count(*) AS n FROM ${sales()} WHERE idempotency_key = ${key}`.execute(db);
    return Number(rows[0]?.n);
  };
  const countKeys = async (key: string) => {
    const table = schema
      ? sql.id(schema, 'ballast_idempotency_keys')
      : sql.id('ballast_idempotency_keys');
    const { rows } = await sql<{ n: number | string }>`
      SELECT count(*) AS n FROM ${table} WHERE key = ${key}`.execute(db);
    return Number(rows[0]?.n);
  };
  const recordSale = (key: string, amount: number) => async (trx: Kysely<SalesDatabase>) => {
    const { rows } = await sql<{ id: number; amount: number }>`
      INSERT INTO ${sales()} (idempotency_key, amount) VALUES (${key}, ${amount})
      RETURNING id, amount`.execute(trx);
    return { saleId: rows[0]?.id, amount: rows[0]?.amount };
  };

  it('runs the operation once and replays its recorded result', async () => {
    const key = freshKey();
    const first = await withIdempotency(
      db,
      { key, fingerprint: 'fp', schema },
      recordSale(key, 120),
    );
    expect(first.replayed).toBe(false);
    let ranAgain = false;
    const second = await withIdempotency(db, { key, fingerprint: 'fp', schema }, async () => {
      ranAgain = true;
      return { saleId: -1, amount: -1 };
    });
    expect(ranAgain).toBe(false);
    expect(second).toEqual({ replayed: true, result: first.result });
    expect(await countSales(key)).toBe(1);
  });

  it('leaves neither key nor effect when the operation fails after the claim; a retry succeeds', async () => {
    const key = freshKey();
    const failure = new Error('payment provider said no');
    await expect(
      withIdempotency(db, { key, fingerprint: 'fp', schema }, async (trx) => {
        await recordSale(key, 50)(trx);
        // The key is claimed and the sale written inside the transaction at this point.
        expect(await countKeysIn(trx, key)).toBe(1);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await countSales(key)).toBe(0);
    expect(await countKeys(key)).toBe(0);

    const retry = await withIdempotency(
      db,
      { key, fingerprint: 'fp', schema },
      recordSale(key, 50),
    );
    expect(retry.replayed).toBe(false);
    expect(await countSales(key)).toBe(1);
    expect(await countKeys(key)).toBe(1);
  });

  async function countKeysIn(trx: Kysely<SalesDatabase>, key: string) {
    const table = schema
      ? sql.id(schema, 'ballast_idempotency_keys')
      : sql.id('ballast_idempotency_keys');
    const { rows } = await sql<{ n: number | string }>`
      SELECT count(*) AS n FROM ${table} WHERE key = ${key}`.execute(trx);
    return Number(rows[0]?.n);
  }

  it('lets one of 20 concurrent duplicates write; the others wait and replay it', async () => {
    const key = freshKey();
    let executions = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        withIdempotency(db, { key, fingerprint: 'fp', schema }, async (trx) => {
          executions++;
          // Hold the transaction open so the duplicates really are concurrent with it.
          await new Promise((resolve) => setTimeout(resolve, 50));
          return recordSale(key, 7)(trx);
        }),
      ),
    );
    expect(executions).toBe(1);
    expect(outcomes.filter((o) => !o.replayed)).toHaveLength(1);
    const original = outcomes.find((o) => !o.replayed)?.result;
    for (const outcome of outcomes) expect(outcome.result).toEqual(original);
    expect(await countSales(key)).toBe(1);
  });

  it('hands the key to a waiting duplicate when the first transaction rolls back', async () => {
    const key = freshKey();
    let releaseFirst: () => void = () => {};
    const firstMayFail = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let firstClaimed: () => void = () => {};
    const claimedByFirst = new Promise<void>((resolve) => {
      firstClaimed = resolve;
    });
    const first = withIdempotency(db, { key, fingerprint: 'fp', schema }, async (trx) => {
      firstClaimed();
      await recordSale(key, 1)(trx);
      await firstMayFail;
      throw new Error('first attempt fails');
    });
    // The operation runs only once the key is claimed: the duplicate arrives after that, however
    // loaded the machine is.
    await claimedByFirst;
    const second = withIdempotency(db, { key, fingerprint: 'fp', schema }, recordSale(key, 2));
    await new Promise((resolve) => setTimeout(resolve, 30));
    releaseFirst();
    await expect(first).rejects.toThrow('first attempt fails');
    const outcome = await second;
    expect(outcome.replayed).toBe(false);
    expect(outcome.result).toMatchObject({ amount: 2 });
    expect(await countSales(key)).toBe(1);
  });

  it('refuses a key reused with another fingerprint (422) without running the operation', async () => {
    const key = freshKey();
    await withIdempotency(db, { key, fingerprint: 'fp-a', schema }, recordSale(key, 3));
    let ran = false;
    const error = await withIdempotency(db, { key, fingerprint: 'fp-b', schema }, async () => {
      ran = true;
    }).catch((e: unknown) => e);
    expect(isBallastError(error, 'IDEMPOTENCY_KEY_REUSED')).toBe(true);
    expect(ran).toBe(false);
  });

  it('answers IDEMPOTENCY_IN_FLIGHT when the store mode holds the key in flight', async () => {
    const key = freshKey();
    const clock = new ManualClock(Date.now());
    const store = new PostgresIdempotencyStore({ db, schema });
    await store.claim({
      scope: 'shop',
      key,
      fingerprint: 'fp',
      ownerToken: 'http-holder',
      now: clock.now(),
      leaseExpiresAt: clock.now() + 4_500,
      expiresAt: clock.now() + 3_600_000,
    });
    const error = await withIdempotency(
      db,
      { key, scope: 'shop', fingerprint: 'fp', schema, clock },
      recordSale(key, 4),
    ).catch((e: unknown) => e);
    expect(isBallastError(error, 'IDEMPOTENCY_IN_FLIGHT')).toBe(true);
    expect(isBallastError(error) && error.details.retryAfterSeconds).toBe(5);
    // After the holder's lease the same request takes the key over.
    await clock.advance(5_000);
    const outcome = await withIdempotency(
      db,
      { key, scope: 'shop', fingerprint: 'fp', schema, clock },
      recordSale(key, 4),
    );
    expect(outcome.replayed).toBe(false);
    expect(await countSales(key)).toBe(1);
  });

  it('joins a transaction it is given, so the caller’s rollback removes the key too', async () => {
    const key = freshKey();
    await expect(
      db.transaction().execute(async (trx) => {
        const outcome = await withIdempotency(
          trx,
          { key, fingerprint: 'fp', schema },
          recordSale(key, 9),
        );
        expect(outcome.replayed).toBe(false);
        throw new Error('caller rolls back');
      }),
    ).rejects.toThrow('caller rolls back');
    expect(await countKeys(key)).toBe(0);
    expect(await countSales(key)).toBe(0);
  });

  it('validates its options and the key, as the HTTP layer does', async () => {
    const attempt = (options: { key: string; fingerprint: string; ttlMs?: number }) =>
      withIdempotency(db, { ...options, schema }, async () => 1).catch((e: unknown) => e);
    const empty = await attempt({ key: '', fingerprint: 'fp' });
    expect(isBallastError(empty, 'IDEMPOTENCY_KEY_INVALID') && empty.details.reason).toBe('empty');
    const control = await attempt({ key: 'a\nb', fingerprint: 'fp' });
    expect(isBallastError(control, 'IDEMPOTENCY_KEY_INVALID')).toBe(true);
    const ttl = await attempt({ key: 'k', fingerprint: 'fp', ttlMs: 0 });
    expect(isBallastError(ttl, 'INVALID_OPTIONS') && ttl.details.field).toBe('ttlMs');
  });

  it('answers a scope taken from the request that no store keeps 400, as the middleware does, not 500', async () => {
    // docs/idempotency.md passes `req.get('x-tenant-id') ?? 'global'`: the client chooses it.
    const run = vi.fn(async () => 1);
    for (const [scope, reason] of [
      ['t'.repeat(256), 'too-long'],
      ['', 'empty'],
      ['a\u0000b', 'invalid-characters'],
    ] as const) {
      const error = await withIdempotency(
        db,
        { key: 'k', fingerprint: 'fp', scope, schema },
        run,
      ).catch((e: unknown) => e);
      expect(error, reason).toMatchObject({
        code: 'VALIDATION_FAILED',
        status: 400,
        details: { field: 'scope', reason, maxLength: 255 },
      });
    }
    expect(run).not.toHaveBeenCalled();
    const notString = await withIdempotency(
      db,
      { key: 'k', fingerprint: 'fp', scope: 42 as never, schema },
      run,
    ).catch((e: unknown) => e);
    expect(isBallastError(notString, 'INVALID_OPTIONS')).toBe(true);
  });
}

describeWith('postgres', 'withIdempotency on a Postgres server', () => {
  const schema = uniqueSchemaName('idem_tx');
  transactionBoundSuite(
    () =>
      new Kysely<SalesDatabase>({
        dialect: new PostgresDialect({
          pool: new pg.Pool({ connectionString: postgresUrl, max: 30 }),
        }),
      }),
    schema,
  );
});

describe('withIdempotency on PGlite', () => {
  transactionBoundSuite(
    () => new Kysely<SalesDatabase>({ dialect: new PGliteDialect(freshPGlite()) }),
  );
});
