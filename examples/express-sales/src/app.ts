/**
 * The sales API of seed 002 §2.4: a till records a sale with `POST /sales` and an
 * `Idempotency-Key`; when the network drops the answer, the till retries with the same key and
 * the server answers with the original sale instead of recording a second one. The keys live in
 * Postgres with the sales, so every server process shares them.
 */

import { expressIdempotency } from '@ballast/adapters/express';
import { PostgresIdempotencyStore } from '@ballast/adapters/postgres';
import { BallastError, type Clock } from '@ballast/core';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { SalesDatabase } from './database.js';

export interface SalesAppOptions {
  readonly db: Kysely<SalesDatabase>;
  /** How long a crashed request blocks its key before a retry may take it over. Default 30 s. */
  readonly leaseMs?: number;
  /** Source of time for leases and expiry. Default: the system clock. */
  readonly clock?: Clock;
}

const saleInput = z.object({
  item: z.string().min(1).max(200),
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().nonnegative(),
});

/** Builds the Express app: `POST /sales` (idempotent, key required) and `GET /sales`. */
export function createSalesApp(options: SalesAppOptions): Express {
  const { db } = options;
  const app = express();
  app.use(express.json({ limit: '64kb' }));

  // One store for every process: the Postgres table created by migrateIdempotency().
  const store = new PostgresIdempotencyStore({ db });
  const idempotent = expressIdempotency({
    store,
    required: true,
    // A real app scopes keys per tenant or user, e.g. (req) => req.user.tenantId.
    scope: (req) => req.get('x-till-id') ?? 'global',
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });

  app.post('/sales', idempotent, async (req, res, next) => {
    try {
      const parsed = saleInput.safeParse(req.body);
      if (!parsed.success) {
        const field = parsed.error.issues[0]?.path.join('.') ?? '(body)';
        throw new BallastError('VALIDATION_FAILED', { details: { field } });
      }
      const { item, quantity, unitPriceCents } = parsed.data;
      const sale = await db
        .insertInto('sales')
        .values({ item, quantity, unit_price_cents: unitPriceCents })
        .returning(['id', 'item', 'quantity', 'unit_price_cents', 'created_at'])
        .executeTakeFirstOrThrow();
      res
        .status(201)
        .location(`/sales/${sale.id}`)
        .json({
          id: sale.id,
          item: sale.item,
          quantity: sale.quantity,
          unitPriceCents: sale.unit_price_cents,
          totalCents: sale.quantity * sale.unit_price_cents,
          createdAt: new Date(sale.created_at).toISOString(),
        });
    } catch (error) {
      next(error);
    }
  });

  app.get('/sales', async (_req, res, next) => {
    try {
      const sales = await db.selectFrom('sales').selectAll().orderBy('id').execute();
      res.json(
        sales.map((sale) => ({
          id: sale.id,
          item: sale.item,
          quantity: sale.quantity,
          unitPriceCents: sale.unit_price_cents,
          createdAt: new Date(sale.created_at).toISOString(),
        })),
      );
    } catch (error) {
      next(error);
    }
  });

  // Errors become RFC 9457 problem+json; a 4xx is recorded for the key (the same bad request
  // gets the same answer), a 5xx releases it so a retry may succeed.
  const problems: ErrorRequestHandler = (error, req, res, _next) => {
    const failure =
      error instanceof BallastError
        ? error
        : new BallastError(
            typeof error?.status === 'number' && error.status < 500
              ? 'VALIDATION_FAILED'
              : 'INTERNAL',
            { cause: error },
          );
    res
      .status(failure.status)
      .type('application/problem+json')
      .send(JSON.stringify(failure.toProblem({ instance: req.originalUrl })));
  };
  app.use(problems);
  return app;
}
