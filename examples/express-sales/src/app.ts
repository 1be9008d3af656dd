/**
 * The sales API of seed 002 §2.4: a till records a sale with `POST /sales` and an
 * `Idempotency-Key`; when the network drops the answer, the till retries with the same key and
 * the server answers with the original sale instead of recording a second one. The keys live in
 * Postgres with the sales, so every server process shares them.
 */

import {
  expressErrorHandler,
  expressNotFoundHandler,
  expressValidate,
} from '@ballast/adapters/express';
import { updateWithVersion, withIdempotency } from '@ballast/adapters/postgres';
import { BallastError, type Clock, fingerprint } from '@ballast/core';
import { parseIdempotencyKey, versionETag, writeIfMatch } from '@ballast/server';
import express, { type Express } from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { SalesDatabase } from './database.js';

export interface SalesAppOptions {
  readonly db: Kysely<SalesDatabase>;
  /** Source of time for key expiry. Default: the system clock. */
  readonly clock?: Clock;
}

const saleInput = z.strictObject({
  item: z.string().min(1).max(200),
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().nonnegative(),
});
const saleChanges = saleInput.partial().refine((changes) => Object.keys(changes).length > 0, {
  message: 'expected at least one field to change',
});
const saleParams = z.object({ id: z.coerce.number().int().positive() });

interface SaleRow {
  id: number;
  item: string;
  quantity: number;
  unit_price_cents: number;
  version: number;
  created_at: Date | string;
}

function toSale(sale: SaleRow) {
  return {
    id: sale.id,
    item: sale.item,
    quantity: sale.quantity,
    unitPriceCents: sale.unit_price_cents,
    totalCents: sale.quantity * sale.unit_price_cents,
    version: sale.version,
    createdAt: new Date(sale.created_at).toISOString(),
  };
}

/**
 * Builds the Express app: `POST /sales` (idempotent in the sale's own transaction, key required),
 * `GET /sales`, `GET /sales/:id` (with its ETag) and `PATCH /sales/:id` (a conditional edit:
 * `If-Match` required, a stale version answered 412 with the current sale).
 */
export function createSalesApp(options: SalesAppOptions): Express {
  const { db } = options;
  const app = express();
  app.use(express.json({ limit: '64kb' }));

  // Seed 003: "idempotency belongs where state lives". The key is claimed, the sale inserted and
  // the answer recorded in ONE transaction: they commit together or not at all.
  app.post('/sales', expressValidate({ body: saleInput }), async (req, res) => {
    const header = req.get('idempotency-key');
    if (header === undefined) throw new BallastError('IDEMPOTENCY_KEY_MISSING');
    const { item, quantity, unitPriceCents } = req.body;
    const { result, replayed } = await withIdempotency(
      db,
      {
        key: parseIdempotencyKey(header),
        // A real app scopes keys per tenant or user, e.g. req.user.tenantId.
        scope: req.get('x-till-id') ?? 'global',
        fingerprint: await fingerprint({
          method: 'POST',
          path: '/sales',
          body: JSON.stringify(req.body),
        }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      },
      async (trx) => {
        const sale = await trx
          .insertInto('sales')
          .values({ item, quantity, unit_price_cents: unitPriceCents })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toSale(sale);
      },
    );
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res
      .status(201)
      .location(`/sales/${result.id}`)
      .set('ETag', versionETag(result.version))
      .json(result);
  });

  app.get('/sales', async (_req, res) => {
    const sales = await db.selectFrom('sales').selectAll().orderBy('id').execute();
    res.json(sales.map(toSale));
  });

  app.get('/sales/:id', expressValidate({ params: saleParams }), async (req, res) => {
    const sale = await db
      .selectFrom('sales')
      .selectAll()
      .where('id', '=', req.params.id)
      .executeTakeFirst();
    if (!sale) throw new BallastError('NOT_FOUND');
    res.set('ETag', versionETag(sale.version)).json(toSale(sale));
  });

  // An edit never silently overwrites another till's: the version read (ETag) must still be the
  // current one, checked and incremented in the same UPDATE.
  app.patch(
    '/sales/:id',
    expressValidate({ params: saleParams, body: saleChanges }),
    async (req, res) => {
      const { item, quantity, unitPriceCents } = req.body;
      const sale = await writeIfMatch(req.get('if-match'), (version) =>
        updateWithVersion<SaleRow>(
          db,
          'sales',
          { id: req.params.id, version },
          {
            ...(item === undefined ? {} : { item }),
            ...(quantity === undefined ? {} : { quantity }),
            ...(unitPriceCents === undefined ? {} : { unit_price_cents: unitPriceCents }),
          },
          // Every column of a sale is safe to show the till, so a 412 carries the current sale.
          { includeCurrent: true },
        ),
      );
      res.set('ETag', versionETag(sale.version)).json(toSale(sale));
    },
  );

  // Errors become RFC 9457 problem+json: typed codes, zod paths, constraint classes; a 500
  // carries only a generic message and a trace id, the detail goes to the log.
  app.use(expressNotFoundHandler());
  app.use(expressErrorHandler());
  return app;
}
