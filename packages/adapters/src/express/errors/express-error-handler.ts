/**
 * The Express error handler Ballast users would otherwise each write: whatever a route passes to
 * `next(error)` or throws becomes problem+json through `toResponse()` in `@ballast/server`
 * (typed codes, zod paths, Postgres constraint classes, a generic 500 whose detail and trace id
 * go to the log). Express's own handler would send an HTML page with the stack and the driver's
 * message instead.
 */
import { BallastError } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { currentTraceContext, type TraceScope, toResponse } from '@ballast/server';
import { type ErrorHandlerOptions, errorHandlerOptionsSchema } from '@ballast/server/adapter-kit';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { sendExpressResponse } from '../send-express-response.js';

/** Options for {@link expressErrorHandler}: see `ErrorHandlerOptions` in `@ballast/server/adapter-kit`. */
export type ExpressErrorHandlerOptions = ErrorHandlerOptions<Request>;

const optionsSchema = errorHandlerOptionsSchema<Request>();

function traceIdOf(res: Response): string | undefined {
  const scope = res.locals.ballastTrace as TraceScope | undefined;
  return scope?.trace.traceId ?? currentTraceContext()?.traceId;
}

/**
 * Express error middleware: register it after every route. Answers problem+json; when the
 * response has already started, hands the error to Express, which closes the connection (the
 * only honest answer once a status line is out).
 *
 * @example
 * ```ts
 * app.use(expressNotFoundHandler());
 * app.use(expressErrorHandler({ logger, constraints: { users_email_key: { code: 'EMAIL_TAKEN', field: 'email' } } }));
 * ```
 */
export function expressErrorHandler(options: ExpressErrorHandlerOptions = {}): ErrorRequestHandler {
  const { logger, locale, constraints } = parseOptions(
    optionsSchema,
    options,
    'expressErrorHandler()',
  );
  return (error, req, res, next) => {
    if (res.headersSent) {
      logger?.error(
        { err: error, traceId: traceIdOf(res) },
        'request failed after the response started',
      );
      next(error);
      return;
    }
    const requestLocale = typeof locale === 'function' ? locale(req) : locale;
    const traceId = traceIdOf(res);
    const response = toResponse(error, {
      ...(logger === undefined ? {} : { logger }),
      ...(constraints === undefined ? {} : { constraints }),
      ...(requestLocale === undefined
        ? { acceptLanguage: req.get('accept-language') ?? null }
        : { locale: requestLocale }),
      ...(traceId === undefined ? {} : { traceId }),
      instance: req.originalUrl.split('?')[0] ?? '/',
    });
    sendExpressResponse(res, response).catch(next);
  };
}

/**
 * The last route: answers any request no route matched with 404 `NOT_FOUND` as problem+json
 * (through the error handler), instead of Express's HTML "Cannot GET".
 */
export function expressNotFoundHandler(): RequestHandler {
  return (req, _res, next) => {
    next(
      new BallastError('NOT_FOUND', {
        message: `No route ${req.method} ${req.originalUrl.split('?')[0]}`,
      }),
    );
  };
}
