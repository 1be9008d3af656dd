/**
 * The options every framework's error handler takes, validated once: Express's and Fastify's
 * handlers differ only in the request type a `locale` function receives.
 */

import type { Logger } from '@ballast/core';
import { z } from 'zod';
import { functionSchema, loggerSchema } from '../options/option-schemas.js';
import type { ClassifyErrorOptions } from './classify-error.js';

/** Options of a framework's error handler; `Req` is that framework's request. */
export interface ErrorHandlerOptions<Req> extends ClassifyErrorOptions {
  /** Receives every 5xx with the full error and trace id. */
  readonly logger?: Logger;
  /**
   * Locale of the messages: fixed, or per request. Default: the request's `Accept-Language`,
   * falling back to English.
   */
  readonly locale?: string | ((request: Req) => string | undefined);
}

/** The zod schema of {@link ErrorHandlerOptions}, for a framework adapter's error handler. */
export function errorHandlerOptionsSchema<Req>() {
  return z.strictObject({
    logger: loggerSchema.optional(),
    locale: z
      .union([
        z.string().min(1).max(35),
        functionSchema<(request: Req) => string | undefined>('a function of the request'),
      ])
      .optional(),
    constraints: z
      .record(
        z.string(),
        z.strictObject({ code: z.string().optional(), field: z.string().optional() }),
      )
      .optional(),
  });
}
