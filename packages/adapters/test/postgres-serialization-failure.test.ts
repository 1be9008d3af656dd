/**
 * A lost serialization race on a database that runs at REPEATABLE READ or SERIALIZABLE
 * (`default_transaction_isolation`). Postgres answers the loser with SQLSTATE 40001 and asks for
 * the whole transaction to be retried. Before, that reached the client as a 500 (or a 503 that
 * blamed an idempotency store that was up). Now, where Ballast owns the transaction, it is
 * retried and the loser gets the answer it would have had at READ COMMITTED (a replay, a
 * `VERSION_CONFLICT`); where the caller owns it, a typed `TRANSACTION_CONFLICT` (409, retryable,
 * `Retry-After`). Each race is forced, not hoped for: the winner holds its row until the loser
 * is seen waiting on it in `pg_stat_activity`.
 */
import { expressErrorHandler } from '@ballast/adapters/express';
import { migrateIdempotency, updateWithVersion, withIdempotency } from '@ballast/adapters/postgres';
import { isBallastError } from '@ballast/core';
import express from 'express';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/eventually.js';
import { type ListeningServer, listenExpress } from './support/listen.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

interface Db {
  stock: { id: number; quantity: number; version: number };
}

const isolations = ['repeatable read', 'serializable'] as const;

describeWith('postgres', 'a lost serialization race', () => {
  describe.each(isolations)('at %s', (isolation) => {
    const schema = uniqueSchemaName('serialization');
    const applicationName = `ballast-${schema}`;
    const pool = new pg.Pool({
      connectionString: postgresUrl,
      max: 6,
      application_name: applicationName,
      options: `-c default_transaction_isolation=${isolation.replace(' ', '\\ ')}`,
    });
    const db = new Kysely<Db>({ dialect: new PostgresDialect({ pool }) }).withSchema(schema);
    const stock = () => sql.id(schema, 'stock');
    let server: ListeningServer;

    /** Resolves once a backend of this pool waits on a row lock: the loser is in the race. */
    const loserWaiting = () =>
      until(async () => {
        const { rows } = await sql<{ waiting: number }>`
          SELECT count(*)::int AS waiting FROM pg_stat_activity
          WHERE application_name = ${applicationName} AND wait_event_type = 'Lock'`.execute(db);
        return (rows[0]?.waiting ?? 0) > 0;
      });

    /**
     * What the winner's operation waits on once its write is made (`entered`), and the function
     * that lets it commit (`open`).
     */
    const gate = () => {
      let open = () => {};
      let enter = () => {};
      const opened = new Promise<void>((resolve) => {
        open = resolve;
      });
      const entered = new Promise<void>((resolve) => {
        enter = resolve;
      });
      return { opened, open, entered, enter };
    };
    type Gate = ReturnType<typeof gate>;

    const takeOne = (key: string, hold?: Gate) =>
      withIdempotency(db, { key, fingerprint: 'take-one', schema }, async (trx) => {
        await sql`UPDATE ${stock()} SET quantity = quantity - 1 WHERE id = 1`.execute(trx);
        hold?.enter();
        await hold?.opened;
        const { rows } = await sql<{ quantity: number }>`
          SELECT quantity FROM ${stock()} WHERE id = 1`.execute(trx);
        return { left: rows[0]?.quantity };
      });

    const quantity = async () => {
      const { rows } = await sql<{ quantity: number; version: number }>`
        SELECT quantity, version FROM ${stock()} WHERE id = 1`.execute(db);
      return rows[0];
    };

    let routeGate = gate();
    beforeAll(async () => {
      await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
      await migrateIdempotency(db, { schema });
      await sql`CREATE TABLE ${stock()} (id int PRIMARY KEY, quantity int NOT NULL, version int NOT NULL)`.execute(
        db,
      );
      const app = express();
      app.post('/take/:key', async (req, res, next) => {
        try {
          const hold = req.query.hold === 'yes' ? routeGate : undefined;
          const { result, replayed } = await takeOne(req.params.key, hold);
          res.status(replayed ? 200 : 201).json(result);
        } catch (error) {
          next(error);
        }
      });
      app.post('/rename/:version', async (req, res, next) => {
        try {
          const row = await db.transaction().execute((trx) =>
            updateWithVersion(
              trx,
              'stock',
              { id: 1, version: Number(req.params.version) },
              {
                quantity: 0,
              },
              { schema },
            ),
          );
          res.json(row);
        } catch (error) {
          next(error);
        }
      });
      app.use(expressErrorHandler());
      server = await listenExpress(app);
    });
    afterAll(async () => {
      await server?.close();
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    });

    const resetStock = () =>
      sql`INSERT INTO ${stock()} VALUES (1, 10, 1)
        ON CONFLICT (id) DO UPDATE SET quantity = 10, version = 1`.execute(db);

    it('withIdempotency(): a concurrent duplicate is retried and replays the winner', async () => {
      await resetStock();
      const hold = gate();
      const winner = takeOne('dup-1', hold);
      await hold.entered;
      const loser = takeOne('dup-1');
      await loserWaiting();
      hold.open();
      expect(await winner).toEqual({ result: { left: 9 }, replayed: false });
      expect(await loser).toEqual({ result: { left: 9 }, replayed: true });
      expect((await quantity())?.quantity).toBe(9);
    });

    it('withIdempotency(): an operation that loses a race on its own writes runs again', async () => {
      await resetStock();
      const hold = gate();
      const winner = takeOne('race-a', hold);
      await hold.entered;
      const loser = takeOne('race-b');
      await loserWaiting();
      hold.open();
      expect(await winner).toEqual({ result: { left: 9 }, replayed: false });
      expect(await loser).toEqual({ result: { left: 8 }, replayed: false });
      expect((await quantity())?.quantity).toBe(8);
    });

    it('updateWithVersion() on its own statement: the loser learns the winner’s version (409)', async () => {
      await resetStock();
      const winner = await pool.connect();
      try {
        await winner.query('BEGIN');
        await winner.query(`UPDATE "${schema}".stock SET quantity = 5, version = 2 WHERE id = 1`);
        const loser = updateWithVersion(
          db,
          'stock',
          { id: 1, version: 1 },
          { quantity: 3 },
          {
            schema,
          },
        ).catch((error: unknown) => error);
        await loserWaiting();
        await winner.query('COMMIT');
        expect(await loser).toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 2 });
      } finally {
        winner.release();
      }
    });

    it('updateWithVersion() in the caller’s transaction: TRANSACTION_CONFLICT, 409, retryable', async () => {
      await resetStock();
      const winner = await pool.connect();
      try {
        await winner.query('BEGIN');
        await winner.query(`UPDATE "${schema}".stock SET quantity = 5, version = 2 WHERE id = 1`);
        const loser = db
          .transaction()
          .execute((trx) =>
            updateWithVersion(trx, 'stock', { id: 1, version: 2 }, { quantity: 3 }, { schema }),
          )
          .catch((error: unknown) => error);
        await loserWaiting();
        await winner.query('COMMIT');
        const error = await loser;
        expect(isBallastError(error, 'TRANSACTION_CONFLICT')).toBe(true);
        expect(error).toMatchObject({ status: 409, retryable: true });
      } finally {
        winner.release();
      }
    });

    it('over HTTP (Express): a concurrent duplicate and a lost race in a route’s own transaction are never 5xx', async () => {
      await resetStock();
      routeGate = gate();
      const post = (path: string) => fetch(`${server.url}${path}`, { method: 'POST' });
      const winner = post('/take/http-1?hold=yes');
      await routeGate.entered;
      const duplicate = post('/take/http-1');
      await loserWaiting();
      routeGate.open();
      expect((await winner).status).toBe(201);
      const replay = await duplicate;
      expect(replay.status).toBe(200);
      expect(await replay.json()).toEqual({ left: 9 });

      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`UPDATE "${schema}".stock SET version = 2 WHERE id = 1`);
        const rename = post('/rename/2');
        await loserWaiting();
        await holder.query('COMMIT');
        const answer = await rename;
        expect(answer.status).toBe(409);
        expect(answer.headers.get('retry-after')).toBe('1');
        expect(await answer.json()).toMatchObject({
          code: 'TRANSACTION_CONFLICT',
          retryable: true,
        });
      } finally {
        holder.release();
      }
    });
  });
});
