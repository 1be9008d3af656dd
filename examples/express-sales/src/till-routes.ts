/**
 * Enrolling a new till, the sign-up of this API (seed 000 §1 and §3, seed 004):
 * - `POST /enrolment-codes` issues a one-time code, valid for a limited time;
 * - `POST /tills` enrols a till with that code: refused with 410 `EXPIRED` once the code has
 *   expired (`assertNotExpired`), limited to 5 attempts per 15 minutes per IP (the `signUp`
 *   preset on express-rate-limit), and done in two steps with `compensate`: the till, then its
 *   cash drawer; when the drawer cannot be created, the till is deleted and the code freed, so a
 *   failed enrolment can simply be retried with the same code.
 *
 * Both steps are tables of one database here, so the test can break the second; the recipe is
 * for when they cannot share a transaction (the seed's account in an identity provider, then
 * its profile in the database).
 */
import { expressRateLimitOptions, expressValidate } from '@ballast/adapters/express';
import { assertNotExpired, BallastError, type Clock, compensate } from '@ballast/core';
import { type Request, type Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { SalesDatabase } from './database.js';

export interface TillRoutesOptions {
  readonly db: Kysely<SalesDatabase>;
  readonly clock: Clock;
  /** How long an enrolment code is valid, in ms. */
  readonly enrolmentTtlMs: number;
  /** Client IPs the sign-up limit exempts (seed 004: localhost). */
  readonly rateLimitAllowList?: readonly string[];
}

const enrolment = z.strictObject({
  enrolmentCode: z.string().min(1).max(100),
  name: z.string().trim().min(1).max(100),
  // An `integer` column: a larger float would be a database error (500) instead of a 400.
  floatCents: z.number().int().nonnegative().max(2_147_483_647),
});

export function tillRoutes(options: TillRoutesOptions): Router {
  const { db, clock, enrolmentTtlMs } = options;
  const router = Router();

  // Issuing codes is a manager's job: a real app puts this route behind its authentication.
  router.post('/enrolment-codes', async (_req: Request, res: Response) => {
    const code = await db
      .insertInto('enrolment_codes')
      .values({
        code: crypto.randomUUID(),
        expires_at: new Date(clock.now() + enrolmentTtlMs),
        used_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    res.status(201).json({ code: code.code, expiresAt: new Date(code.expires_at).toISOString() });
  });

  router.post(
    '/tills',
    rateLimit(
      expressRateLimitOptions({
        preset: 'signUp',
        ...(options.rateLimitAllowList === undefined
          ? {}
          : { allowList: options.rateLimitAllowList }),
      }),
    ),
    expressValidate({ body: enrolment }),
    async (req, res) => {
      const { enrolmentCode, name, floatCents } = req.body;
      const { first: till, second: drawer } = await compensate({
        name: 'enrol-till',
        // Step 1: use the code (once, and only before it expires) and create the till.
        run: () =>
          db.transaction().execute(async (trx) => {
            const code = await trx
              .updateTable('enrolment_codes')
              .set({ used_at: new Date(clock.now()) })
              .where('code', '=', enrolmentCode)
              .where('used_at', 'is', null)
              .returning('expires_at')
              .executeTakeFirst();
            if (code === undefined) {
              throw new BallastError('NOT_FOUND', { message: 'Unknown or used enrolment code' });
            }
            assertNotExpired(code.expires_at, clock);
            return trx
              .insertInto('tills')
              .values({ name })
              .returningAll()
              .executeTakeFirstOrThrow();
          }),
        // Step 2: the till's cash drawer.
        andThen: (created) =>
          db
            .insertInto('till_drawers')
            .values({ till_id: created.id, float_cents: floatCents })
            .returningAll()
            .executeTakeFirstOrThrow(),
        // Undo step 1 when step 2 fails: no till without a drawer, and the code can be retried.
        undo: (created) =>
          db.transaction().execute(async (trx) => {
            await trx.deleteFrom('tills').where('id', '=', created.id).execute();
            await trx
              .updateTable('enrolment_codes')
              .set({ used_at: null })
              .where('code', '=', enrolmentCode)
              .execute();
          }),
      });
      res
        .status(201)
        .location(`/tills/${till.id}`)
        .json({ id: till.id, name: till.name, floatCents: drawer.float_cents });
    },
  );

  return router;
}
