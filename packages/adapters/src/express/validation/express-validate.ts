/**
 * Request validation for Express with zod: each part (params, query, headers, body) is parsed by
 * its schema before the route runs; the parsed values replace the raw ones on `req`, so the route
 * sees coerced, typed input; any issue becomes one 400 `VALIDATION_FAILED` listing every field
 * (rendered by `expressErrorHandler()`).
 */

import { type RequestSchemas, type ValidatedPart, validateRequestParts } from '@ballast/server';
import { checkRequestSchemas } from '@ballast/server/adapter-kit';
import type { Request, RequestHandler } from 'express';

/**
 * Middleware that validates the request's parts with zod schemas. The following handlers see the
 * parsed values, typed: `req.params`, `req.query`, `req.body` (and `req.headers` merged with the
 * parsed headers).
 *
 * @example
 * ```ts
 * app.patch(
 *   '/sales/:id',
 *   expressValidate({ params: z.object({ id: z.coerce.number().int() }), body: saleChanges }),
 *   async (req, res) => { req.params.id; /* number *\/ },
 * );
 * ```
 */
export function expressValidate<Schemas extends RequestSchemas>(
  schemas: Schemas,
): RequestHandler<
  ValidatedPart<Schemas, 'params', Request['params']>,
  unknown,
  ValidatedPart<Schemas, 'body', unknown>,
  ValidatedPart<Schemas, 'query', Request['query']>
> {
  checkRequestSchemas(schemas, 'expressValidate()');
  return (req, _res, next) => {
    try {
      const parsed = validateRequestParts(schemas, {
        params: req.params,
        query: req.query,
        headers: req.headers,
        body: req.body,
      }) as Partial<Record<'params' | 'query' | 'headers' | 'body', unknown>>;
      if ('params' in parsed) req.params = parsed.params as typeof req.params;
      if ('body' in parsed) req.body = parsed.body as typeof req.body;
      // Express 5 defines `req.query` as a getter; an own property shadows it for this request.
      if ('query' in parsed) {
        Object.defineProperty(req, 'query', {
          value: parsed.query,
          writable: true,
          configurable: true,
          enumerable: true,
        });
      }
      if ('headers' in parsed && typeof parsed.headers === 'object' && parsed.headers !== null) {
        Object.assign(req.headers, parsed.headers);
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}
