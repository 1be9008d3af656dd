/**
 * The Fastify error handler: whatever a route throws (a `BallastError`, a `ZodError`, a Postgres
 * constraint violation, Fastify's own schema validation or body errors) becomes problem+json
 * through `toResponse()` in `@ballast/server`, instead of Fastify's `{ statusCode, error,
 * message }`, which echoes the thrown message (SQL included) to the client.
 */
import { BallastError } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { toResponse } from '@ballast/server';
import { type ErrorHandlerOptions, errorHandlerOptionsSchema } from '@ballast/server/adapter-kit';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** Options for {@link fastifyErrorHandler}: see `ErrorHandlerOptions` in `@ballast/server/adapter-kit`. */
export type FastifyErrorHandlerOptions = ErrorHandlerOptions<FastifyRequest>;

const optionsSchema = errorHandlerOptionsSchema<FastifyRequest>();

/** The handler `fastify.setErrorHandler()` takes. */
export type FastifyProblemHandler = (
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<Buffer>;

/**
 * A handler for `app.setErrorHandler(...)` answering problem+json. Fastify's native schema
 * validation errors become 400 `VALIDATION_FAILED` with each field's path.
 *
 * @example
 * ```ts
 * app.setErrorHandler(fastifyErrorHandler({ constraints: { users_email_key: { code: 'EMAIL_TAKEN', field: 'email' } } }));
 * app.setNotFoundHandler(fastifyNotFoundHandler());
 * ```
 */
export function fastifyErrorHandler(
  options: FastifyErrorHandlerOptions = {},
): FastifyProblemHandler {
  const { logger, locale, constraints } = parseOptions(
    optionsSchema,
    options,
    'fastifyErrorHandler()',
  );
  return async (error, request, reply) => {
    const requestLocale = typeof locale === 'function' ? locale(request) : locale;
    const traceId = (request as { trace?: { traceId?: string } }).trace?.traceId;
    const response = toResponse(error, {
      logger: logger ?? request.log,
      ...(constraints === undefined ? {} : { constraints }),
      ...(requestLocale === undefined
        ? { acceptLanguage: request.headers['accept-language'] ?? null }
        : { locale: requestLocale }),
      ...(traceId ? { traceId } : {}),
      instance: request.url.split('?')[0] ?? '/',
    });
    reply.code(response.status).headers(Object.fromEntries(response.headers));
    // Bytes, so Fastify keeps the content type exactly as problem+json says it.
    return Buffer.from(await response.arrayBuffer());
  };
}

/** A handler for `app.setNotFoundHandler(...)`: 404 `NOT_FOUND` through the error handler. */
export function fastifyNotFoundHandler(): (request: FastifyRequest) => Promise<never> {
  return async (request) => {
    throw new BallastError('NOT_FOUND', {
      message: `No route ${request.method} ${request.url.split('?')[0]}`,
    });
  };
}
