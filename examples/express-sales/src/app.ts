/**
 * The sales API of seed 002 §2.4: a till records a sale with `POST /sales` and an
 * `Idempotency-Key`; when the network drops the answer, the till retries with the same key and
 * the server answers with the original sale instead of recording a second one. The keys live in
 * Postgres with the sales, so every server process shares them.
 */

import {
  expressErrorHandler,
  expressHealth,
  expressNotFoundHandler,
  expressRateLimitOptions,
  expressValidate,
} from '@ballast/adapters/express';
import {
  postgresHealthCheck,
  restore,
  softDelete,
  updateWithVersion,
  whereNotDeleted,
  withIdempotency,
} from '@ballast/adapters/postgres';
import { BallastError, type Clock, fingerprint, systemClock } from '@ballast/core';
import { parseIdempotencyKey, versionETag, writeIfMatch } from '@ballast/server';
import express, { type Express } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { SalesDatabase } from './database.js';
import { tillRoutes } from './till-routes.js';

export interface SalesAppOptions {
  readonly db: Kysely<SalesDatabase>;
  /** Source of time for key expiry, voids and enrolment codes. Default: the system clock. */
  readonly clock?: Clock;
  /** How long an enrolment code (`POST /enrolment-codes`) is valid, in ms. Default 24 hours. */
  readonly enrolmentTtlMs?: number;
  /**
   * Client IPs the rate limits exempt: 100 requests a minute on every route, 5 enrolments per
   * 15 minutes. Default: localhost (seed 004), so a till on the same machine is never limited.
   */
  readonly rateLimitAllowList?: readonly string[];
}

/** The largest value of a Postgres `integer` column: past it the database fails with a 500. */
export const maxInteger = 2_147_483_647;

const saleInput = z.strictObject({
  item: z.string().min(1).max(200),
  quantity: z.number().int().positive().max(maxInteger),
  unitPriceCents: z.number().int().nonnegative().max(maxInteger),
});
const saleChanges = saleInput.partial().refine((changes) => Object.keys(changes).length > 0, {
  message: 'expected at least one field to change',
});
const saleParams = z.object({ id: z.coerce.number().int().positive().max(maxInteger) });

interface SaleRow {
  id: number;
  item: string;
  quantity: number;
  unit_price_cents: number;
  version: number;
  created_at: Date | string;
  deleted_at: Date | string | null;
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
 * `GET /sales`, `GET /sales/:id` (with its ETag), `PATCH /sales/:id` (a conditional edit:
 * `If-Match` required, a stale version answered 412 with the current sale), `DELETE /sales/:id`
 * (voids a sale: a soft delete) and `POST /sales/:id/restore`; till enrolment
 * (`till-routes.ts`); `GET /health` and `GET /health/live`; seed 004's rate limits.
 */
export function createSalesApp(options: SalesAppOptions): Express {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const allowList =
    options.rateLimitAllowList === undefined ? {} : { allowList: options.rateLimitAllowList };
  const app = express();
  // Health first, so a load balancer's probes are never rate limited; /health/live touches no
  // dependency, /health checks the database within 2 s and answers 503 when it is down.
  app.use(expressHealth({ checks: { db: postgresHealthCheck(db) }, timeoutMs: 2_000 }));
  // 100 requests a minute per IP on every other route; 429 as problem+json with Retry-After.
  app.use(rateLimit(expressRateLimitOptions({ preset: 'global', ...allowList })));
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

  // Voided sales are left out of every read: whereNotDeleted() is the one filter for that.
  app.get('/sales', async (_req, res) => {
    const sales = await db
      .selectFrom('sales')
      .selectAll()
      .where(whereNotDeleted())
      .orderBy('id')
      .execute();
    res.json(sales.map(toSale));
  });

  app.get('/sales/:id', expressValidate({ params: saleParams }), async (req, res) => {
    const sale = await db
      .selectFrom('sales')
      .selectAll()
      .where('id', '=', req.params.id)
      .where(whereNotDeleted())
      .executeTakeFirst();
    if (!sale) throw new BallastError('NOT_FOUND');
    res.set('ETag', versionETag(sale.version)).json(toSale(sale));
  });

  // Voiding a sale keeps the row (the till's audit trail) and can be undone; voiding twice is
  // harmless (204 both times).
  app.delete('/sales/:id', expressValidate({ params: saleParams }), async (req, res) => {
    await softDelete(db, 'sales', req.params.id, { clock });
    res.status(204).end();
  });

  app.post('/sales/:id/restore', expressValidate({ params: saleParams }), async (req, res) => {
    await restore(db, 'sales', req.params.id);
    const sale = await db
      .selectFrom('sales')
      .selectAll()
      .where('id', '=', req.params.id)
      .executeTakeFirstOrThrow();
    res.set('ETag', versionETag(sale.version)).json(toSale(sale));
  });

  // An edit never silently overwrites another till's: the version read (ETag) must still be the
  // current one, checked and incremented in the same UPDATE.
  app.patch(
    '/sales/:id',
    expressValidate({ params: saleParams, body: saleChanges }),
    async (req, res) => {
      const { item, quantity, unitPriceCents } = req.body;
      const voided = await db
        .selectFrom('sales')
        .select('id')
        .where('id', '=', req.params.id)
        .where('deleted_at', 'is not', null)
        .executeTakeFirst();
      if (voided) throw new BallastError('NOT_FOUND', { message: 'The sale was voided' });
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

  app.use(
    tillRoutes({
      db,
      clock,
      enrolmentTtlMs: options.enrolmentTtlMs ?? 24 * 3_600_000,
      ...(options.rateLimitAllowList === undefined
        ? {}
        : { rateLimitAllowList: options.rateLimitAllowList }),
    }),
  );

  // Errors become RFC 9457 problem+json: typed codes, zod paths, constraint classes; a 500
  // carries only a generic message and a trace id, the detail goes to the log.
  app.use(expressNotFoundHandler());
  app.use(expressErrorHandler());
  return app;
}
