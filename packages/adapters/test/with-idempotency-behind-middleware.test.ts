/**
 * `withIdempotency()` and the idempotency middleware on one route, over HTTP: the middleware's
 * claim holds the very key the route then asks `withIdempotency()` for, on the same table.
 * Before, the route got its own 409, which the middleware recorded for 24 h and no order was
 * ever created. Now the combination is refused at the first request with INVALID_OPTIONS, the
 * key is released (a 5xx is never recorded), and nothing is written. `withIdempotency()` also
 * reads the key exactly as the middleware does: `"abc"` and `abc` are one key.
 */
import type { AddressInfo } from 'node:net';
import { expressIdempotency } from '@ballast/adapters/express';
import {
  migrateIdempotency,
  PostgresIdempotencyStore,
  withIdempotency,
} from '@ballast/adapters/postgres';
import { isBallastError } from '@ballast/core';
import express, { type ErrorRequestHandler } from 'express';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

describeWith('postgres', 'withIdempotency() behind the idempotency middleware', () => {
  const schema = uniqueSchemaName('idem_nested');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 5 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  let baseUrl = '';
  let close: () => Promise<void> = async () => {};
  let orders = 0;

  beforeAll(async () => {
    await migrateIdempotency(db, { schema });
    const app = express();
    app.use(
      expressIdempotency({
        store: new PostgresIdempotencyStore({ db, schema }),
        required: true,
        scope: (req) => String(req.headers['x-tenant'] ?? ''),
      }),
    );
    app.post('/orders', async (req, res, next) => {
      try {
        const { result } = await withIdempotency(
          db,
          {
            key: String(req.headers['idempotency-key']),
            scope: String(req.headers['x-tenant']),
            fingerprint: 'order',
            schema,
          },
          async () => ({ order: ++orders }),
        );
        res.status(201).json(result);
      } catch (error) {
        next(error);
      }
    });
    const errors: ErrorRequestHandler = (error, _req, res, _next) => {
      const known = isBallastError(error);
      res
        .status(known ? error.status : 500)
        .json({ code: known ? error.code : 'INTERNAL', message: known ? error.message : '' });
    };
    app.use(errors);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
  });
  afterAll(async () => {
    await close();
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  const post = (key: string) =>
    fetch(`${baseUrl}/orders`, {
      method: 'POST',
      headers: {
        'idempotency-key': key,
        'x-tenant': 'tenant-a',
        'content-type': 'application/json',
      },
      body: '{"item":"coffee"}',
    });

  it('refuses the combination at the first request with INVALID_OPTIONS, and never locks the key', async () => {
    const first = await post('"nested-1"');
    expect(first.status).toBe(500);
    const problem = (await first.json()) as { code: string; message: string };
    expect(problem.code).toBe('INVALID_OPTIONS');
    expect(problem.message).toMatch(/held by the idempotency middleware/);
    // Released, not recorded: the retry is refused the same way, never a stored 409.
    const again = await post('"nested-1"');
    expect(again.status).toBe(500);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(orders).toBe(0);
  });

  it('reads the key as the middleware does: "abc" and abc are one key', async () => {
    const options = { scope: 'tenant-b', fingerprint: 'fp', schema };
    const first = await withIdempotency(db, { ...options, key: '"quoted-1"' }, async () => ({
      n: 1,
    }));
    const second = await withIdempotency(db, { ...options, key: 'quoted-1' }, async () => ({
      n: 2,
    }));
    expect(first).toEqual({ result: { n: 1 }, replayed: false });
    expect(second).toEqual({ result: { n: 1 }, replayed: true });
    await expect(
      withIdempotency(db, { ...options, key: '"a", "b"' }, async () => ({ n: 3 })),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
  });
});
