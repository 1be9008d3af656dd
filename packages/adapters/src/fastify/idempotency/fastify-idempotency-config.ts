/**
 * The options of `fastifyIdempotency` and their validation, apart from the plugin's behaviour
 * (kysely's `*-config.ts` pattern): what a user can pass, its defaults, and the schema that
 * refuses anything else with `INVALID_OPTIONS` naming the field.
 */
import {
  type IdempotencyGuardOptions,
  idempotencyScopeOptionSchema,
} from '@ballast/server/adapter-kit';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

/** Options for `fastifyIdempotency`. */
export interface FastifyIdempotencyOptions extends IdempotencyGuardOptions {
  /**
   * Whether a keyed method must carry an `Idempotency-Key` (missing → 400); a function decides
   * per request. Default `false`.
   */
  required?: boolean | ((request: FastifyRequest) => boolean);
  /**
   * Tenant or user the key belongs to (e.g. `(request) => request.user.tenantId`). Required:
   * pass `'global'` explicitly to share every key between all callers. A value that is not a
   * string of 1–255 characters answers 400 `VALIDATION_FAILED`.
   */
  scope: 'global' | ((request: FastifyRequest) => string | Promise<string>);
}

/** The adapter's own options; the guard validates the rest. */
export const fastifyAdapterSchema = z.object({
  required: z
    .union([
      z.boolean(),
      z.custom<(request: FastifyRequest) => boolean>((v) => typeof v === 'function'),
    ])
    .default(false),
  scope: idempotencyScopeOptionSchema,
});
