import {
  guardPostgresPool,
  migrateIdempotency,
  PostgresIdempotencyStore,
  withIdempotency,
} from '@ballast/adapters/postgres';
import { createIdempotency, isBallastError, toProblem } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sleep, until } from './support/eventually.js';
import { rejectionOf } from './support/rejection.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

const request = { scope: 'tenant', key: 'k-1', fingerprint: 'fp' };
const quiet = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });

describeWith(
  'postgres',
  'Postgres idempotency: a table that is missing or wrong is not an outage',
  () => {
    let db: Kysely<unknown>;
    const schema = uniqueSchemaName('idem_failures');
    const notYet = `${schema}_not_yet`;
    beforeAll(async () => {
      db = new Kysely({
        dialect: new PostgresDialect({
          pool: guardPostgresPool(new pg.Pool({ connectionString: postgresUrl, max: 2 })),
        }),
      });
      await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
    });
    afterAll(async () => {
      for (const name of [schema, notYet]) {
        await sql`DROP SCHEMA IF EXISTS ${sql.id(name)} CASCADE`.execute(db);
      }
      await db.destroy();
    });

    it('check() rejects IDEMPOTENCY_STORE_NOT_MIGRATED before migration and resolves after it', async () => {
      const store = new PostgresIdempotencyStore({ db, schema: notYet });
      expect(await rejectionOf(store.check())).toMatchObject({
        code: 'IDEMPOTENCY_STORE_NOT_MIGRATED',
        status: 500,
        retryable: false,
      });
      await migrateIdempotency(db, { schema: notYet });
      await expect(store.check()).resolves.toBeUndefined();
    });

    it('answers NOT_MIGRATED, not 503, on a keyed request, and logs it at error level', async () => {
      const store = new PostgresIdempotencyStore({ db, schema, tableName: 'never_created' });
      const logger = quiet();
      const idempotency = createIdempotency({ store, logger, onStoreUnavailable: 'proceed' });
      const operation = vi.fn(async () => 'x');
      const error = await rejectionOf(idempotency.run(request, operation));
      expect(error).toMatchObject({ code: 'IDEMPOTENCY_STORE_NOT_MIGRATED', status: 500 });
      expect(operation).not.toHaveBeenCalled();
      expect(logger.error).toHaveBeenCalledWith(
        expect.objectContaining({ code: 'IDEMPOTENCY_STORE_NOT_MIGRATED' }),
        expect.stringContaining('not migrated'),
      );
      // The client sees a safe message, never SQL or the table name.
      const problem = JSON.stringify(toProblem(error));
      expect(problem).not.toMatch(/never_created|relation|SQLSTATE/);
    });

    it('detects a table whose columns do not match (wrong schema)', async () => {
      await sql`CREATE TABLE ${sql.id(schema, 'wrong_shape')} (scope text, key text, fingerprint text)`.execute(
        db,
      );
      const store = new PostgresIdempotencyStore({ db, schema, tableName: 'wrong_shape' });
      expect(await rejectionOf(store.check())).toMatchObject({
        code: 'IDEMPOTENCY_STORE_NOT_MIGRATED',
      });
    });

    it('withIdempotency() answers NOT_MIGRATED instead of a raw driver error', async () => {
      const error = await rejectionOf(
        withIdempotency(db, { ...request, schema, tableName: 'never_created' }, async () => 'x'),
      );
      expect(isBallastError(error, 'IDEMPOTENCY_STORE_NOT_MIGRATED')).toBe(true);
    });

    it('a table migrated before the claim/complete functions existed is NOT_MIGRATED until migrated again', async () => {
      const tableName = 'before_functions';
      await migrateIdempotency(db, { schema, tableName });
      // What an earlier version's migration left: the table without its functions.
      await sql`DROP FUNCTION ${sql.id(schema, `${tableName}_claim`)}`.execute(db);
      await sql`DROP FUNCTION ${sql.id(schema, `${tableName}_claim_json`)}`.execute(db);
      await sql`DROP FUNCTION ${sql.id(schema, `${tableName}_complete`)}`.execute(db);
      await sql`DROP PROCEDURE ${sql.id(schema, `${tableName}_tx_claim`)}`.execute(db);
      await sql`DROP PROCEDURE ${sql.id(schema, `${tableName}_tx_complete`)}`.execute(db);
      const store = new PostgresIdempotencyStore({ db, schema, tableName });
      const notMigrated = { code: 'IDEMPOTENCY_STORE_NOT_MIGRATED', status: 500 };
      expect(await rejectionOf(store.check())).toMatchObject(notMigrated);
      const now = Date.now();
      const claim = {
        ...request,
        key: 'before-functions',
        ownerToken: 'owner',
        now,
        leaseExpiresAt: now + 30_000,
        expiresAt: now + 60_000,
      };
      expect(await rejectionOf(store.claim(claim))).toMatchObject(notMigrated);
      const operation = vi.fn(async () => 'x');
      expect(
        await rejectionOf(withIdempotency(db, { ...request, schema, tableName }, operation)),
      ).toMatchObject(notMigrated);
      expect(operation).not.toHaveBeenCalled();

      await migrateIdempotency(db, { schema, tableName });
      await expect(store.check()).resolves.toBeUndefined();
      expect(await store.claim(claim)).toEqual({ kind: 'claimed', takeover: false });
      expect(
        await store.complete({ ...claim, result: { ok: true }, expiresAt: now + 60_000 }),
      ).toBe(true);
      expect(await store.claim({ ...claim, ownerToken: 'other', now: now + 1 })).toEqual({
        kind: 'completed',
        fingerprint: 'fp',
        result: { ok: true },
      });
    });

    it("a hostile scope fails alone as the client's 400, never its batch mates, never as an outage", async () => {
      // Postgres refuses NUL in text: sent, it failed the whole claim batch with 503. The engine
      // now answers a scope it cannot store as the client's error (VALIDATION_FAILED, 400), as
      // the middleware does, before the store sees it.
      await migrateIdempotency(db, { schema });
      const store = new PostgresIdempotencyStore({ db, schema });
      const idempotency = createIdempotency({ store, logger: quiet() });
      const scopes = ['t1', 't2', 't3', 'bad\u0000scope', 't4', 't5', 't6'];
      const outcomes = await Promise.all(
        scopes.map((scope) =>
          idempotency
            .run({ ...request, scope, key: 'batch-mates' }, async () => scope)
            .then(
              (done) => done.outcome,
              (error: unknown) => (isBallastError(error) ? error.code : 'not a BallastError'),
            ),
        ),
      );
      expect(outcomes).toEqual([
        'executed',
        'executed',
        'executed',
        'VALIDATION_FAILED',
        'executed',
        'executed',
        'executed',
      ]);
      // Called directly, the store refuses it before it can join a batch.
      const now = Date.now();
      const claim = (scope: string) =>
        store.claim({
          scope,
          key: 'direct',
          fingerprint: 'fp',
          ownerToken: 'owner',
          now,
          leaseExpiresAt: now + 30_000,
          expiresAt: now + 60_000,
        });
      const direct = await Promise.allSettled([claim('d1'), claim('d\u0000'), claim('d2')]);
      expect(direct.map((settled) => settled.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect((direct[1] as PromiseRejectedResult).reason).toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field: 'scope' },
      });
      // withIdempotency() takes its scope from the request, so there it is the client's 400.
      expect(
        await rejectionOf(
          withIdempotency(db, { ...request, schema, scope: 'a\u0000', key: 'w' }, async () => 1),
        ),
      ).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, details: { field: 'scope' } });
    });

    it('a claim waiting on another transaction’s row lock does not stall its batch mates', async () => {
      await migrateIdempotency(db, { schema });
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 6 });
      const own = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
      try {
        const store = new PostgresIdempotencyStore({ db: own, schema });
        const idempotency = createIdempotency({ store, logger: quiet(), storeTimeoutMs: 2_000 });
        // A transaction-bound request holds the key 'held' uncommitted for 3 s.
        let holding = false;
        const holder = withIdempotency(own, { ...request, schema, key: 'held' }, async () => {
          holding = true;
          await sleep(3_000);
          return 'held';
        });
        await until(() => holding);
        const startedAt = Date.now();
        const run = (scope: string, key: string) =>
          idempotency
            .run({ ...request, scope, key }, async () => scope)
            .then(
              (done) => [done.outcome, Date.now() - startedAt < 1_500],
              (error: unknown) => (isBallastError(error) ? error.code : 'not a BallastError'),
            );
        // The first two go at once (two batches in flight); the other four form one batch.
        const outcomes = await Promise.all([
          run('m1', 'lock'),
          run('m2', 'lock'),
          run(request.scope, 'held'),
          run('m3', 'lock'),
          run('m4', 'lock'),
          run('m5', 'lock'),
        ]);
        expect(outcomes).toEqual([
          ['executed', true],
          ['executed', true],
          'IDEMPOTENCY_STORE_UNAVAILABLE', // alone it would wait on the lock too
          ['executed', true],
          ['executed', true],
          ['executed', true],
        ]);
        expect(await holder).toEqual({ result: 'held', replayed: false });
        const { rows } = await sql<{ n: string }>`
          SELECT count(*) AS n FROM ${sql.id(schema, 'ballast_idempotency_keys')}
          WHERE state = 'in_flight' AND key IN ('lock', 'held')`.execute(own);
        expect(Number(rows[0]?.n)).toBe(0);
      } finally {
        await own.destroy();
      }
    }, 15_000);

    it("withIdempotency() lets the operation's own error through unchanged", async () => {
      await migrateIdempotency(db, { schema });
      const failure = Object.assign(new Error('duplicate key'), { code: '23505' });
      expect(
        await rejectionOf(
          withIdempotency(db, { ...request, schema, key: 'own-error' }, async () =>
            Promise.reject(failure),
          ),
        ),
      ).toBe(failure);
    });
  },
);

describe('Postgres idempotency: a database that cannot be reached', () => {
  // Port 1 on loopback refuses at once: ECONNREFUSED without waiting for a timeout.
  const unreachable = () =>
    new Kysely<unknown>({
      dialect: new PostgresDialect({
        pool: guardPostgresPool(
          new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', max: 1 }),
        ),
      }),
    });

  it('withIdempotency() maps ECONNREFUSED to 503 IDEMPOTENCY_STORE_UNAVAILABLE', async () => {
    const db = unreachable();
    try {
      const error = await rejectionOf(withIdempotency(db, request, async () => 'x'));
      expect(error).toMatchObject({
        code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
        status: 503,
        retryable: true,
      });
      expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await db.destroy();
    }
  });

  it('the store and the engine answer 503 with Retry-After, and check() says unavailable', async () => {
    const db = unreachable();
    try {
      const store = new PostgresIdempotencyStore({ db });
      expect(await rejectionOf(store.check())).toMatchObject({
        code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
      });
      const idempotency = createIdempotency({ store, logger: quiet() });
      expect(await rejectionOf(idempotency.run(request, async () => 'x'))).toMatchObject({
        code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
        status: 503,
        details: { retryAfterSeconds: 2 },
      });
    } finally {
      await db.destroy();
    }
  });
});

describe('guardPostgresPool', () => {
  it('listens for errors on the pool and on every client it connects, once', () => {
    // biome-ignore lint/suspicious/noExplicitAny: a stand-in for pg.Pool's overloaded `on`
    type Listener = (...args: any[]) => void;
    const listeners: Record<string, Listener[]> = {};
    const pool = {
      on(event: string, listener: Listener) {
        listeners[event] = [...(listeners[event] ?? []), listener];
        return pool;
      },
    };
    const logger = quiet();
    expect(guardPostgresPool(pool, { logger })).toBe(pool);
    guardPostgresPool(pool, { logger });
    expect(listeners.error).toHaveLength(1);
    expect(listeners.connect).toHaveLength(1);
    const clientListeners: Array<(error: Error) => void> = [];
    listeners.connect?.[0]?.({
      on: (_: string, listener: (error: Error) => void) => clientListeners.push(listener),
    });
    clientListeners[0]?.(Object.assign(new Error('terminating connection'), { code: '57P01' }));
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ code: '57P01' }),
      expect.stringContaining('connection in use failed'),
    );
  });

  it('refuses what is not a pool with INVALID_OPTIONS', () => {
    expect(() => guardPostgresPool({} as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});
