/**
 * Request validation for Fastify with zod, beside Fastify's native JSON-schema path (whose
 * errors `fastifyErrorHandler()` renders the same way). The hook parses each given part, puts the
 * parsed values back on the request (coerced and typed) and answers one 400 listing every field.
 */

import { type RequestSchemas, type ValidatedPart, validateRequestParts } from '@ballast/server';
import { checkRequestSchemas } from '@ballast/server/adapter-kit';
import type { FastifyReply, FastifyRequest, RouteGenericInterface } from 'fastify';

/** The route generic for a route validated by `schemas`: `app.post<ValidatedRoute<typeof s>>(…)`. */
export interface ValidatedRoute<Schemas extends RequestSchemas> extends RouteGenericInterface {
  Params: ValidatedPart<Schemas, 'params'>;
  Querystring: ValidatedPart<Schemas, 'query'>;
  Headers: ValidatedPart<Schemas, 'headers'>;
  Body: ValidatedPart<Schemas, 'body'>;
}

/**
 * A `preValidation` hook validating the request's parts with zod schemas.
 *
 * @example
 * ```ts
 * const saleChanges = { params: z.object({ id: z.coerce.number() }), body: z.object({ quantity: z.number().int() }) };
 * app.patch<ValidatedRoute<typeof saleChanges>>('/sales/:id', { preValidation: fastifyValidate(saleChanges) },
 *   async (request) => request.body.quantity, // number
 * );
 * ```
 */
export function fastifyValidate<Schemas extends RequestSchemas>(
  schemas: Schemas,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  checkRequestSchemas(schemas, 'fastifyValidate()');
  return async (request) => {
    const parsed = validateRequestParts(schemas, {
      params: request.params,
      query: request.query,
      headers: request.headers,
      body: request.body,
    }) as Partial<Record<'params' | 'query' | 'headers' | 'body', unknown>>;
    if ('params' in parsed) request.params = parsed.params;
    if ('query' in parsed) request.query = parsed.query;
    if ('body' in parsed) request.body = parsed.body;
    if ('headers' in parsed && typeof parsed.headers === 'object' && parsed.headers !== null) {
      Object.assign(request.headers, parsed.headers);
    }
  };
}
