/**
 * `/health` and `/health/live` for Express: `health()` and `live()` from `@ballast/server`,
 * mounted on a router.
 */
import { parseOptions } from '@ballast/core/adapter-kit';
import { type HealthOptions, health, live } from '@ballast/server';
import { Router } from 'express';
import { z } from 'zod';
import { sendExpressResponse } from '../send-express-response.js';

/** Options for {@link expressHealth}. */
export interface ExpressHealthOptions extends HealthOptions {
  /** Path of the full report. Default `'/health'`. */
  readonly path?: string;
  /** Path of the dependency-free ping. Default `'/health/live'`. */
  readonly livePath?: string;
}

const pathsSchema = z.strictObject({
  path: z.string().startsWith('/').default('/health'),
  livePath: z.string().startsWith('/').default('/health/live'),
});

/**
 * A router answering `GET path` with the health report (503 when a required check is down) and
 * `GET livePath` with `{ status: 'up' }` without touching dependencies.
 *
 * @example
 * ```ts
 * app.use(expressHealth({ checks: { db: postgresHealthCheck(db) }, timeoutMs: 1_000 }));
 * ```
 */
export function expressHealth(options: ExpressHealthOptions): Router {
  // A missing argument is then refused by the option schemas (INVALID_OPTIONS), not a TypeError.
  const { path, livePath, ...healthOptions } = options ?? ({} as ExpressHealthOptions);
  const paths = parseOptions(pathsSchema, { path, livePath }, 'expressHealth()');
  const report = health(healthOptions);
  const ping = live();
  const router = Router();
  router.get(paths.livePath, (_req, res, next) => {
    ping()
      .then((response) => sendExpressResponse(res, response))
      .catch(next);
  });
  router.get(paths.path, (_req, res, next) => {
    report()
      .then((response) => sendExpressResponse(res, response))
      .catch(next);
  });
  return router;
}
