/**
 * The Express error handler Ballast users would otherwise each write: whatever a route passes to
 * `next(error)` or throws becomes problem+json through `toResponse()` in `@ballast/server`
 * (typed codes, zod paths, Postgres constraint classes, a generic 500 whose detail and trace id
 * go to the log). Express's own handler would send an HTML page with the stack and the driver's
 * message instead.
 */
import { BallastError, type Logger } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import {
  type ClassifyErrorOptions,
  currentTraceContext,
  type TraceScope,
  toResponse,
} from '@ballast/server';
import { loggerSchema } from '@ballast/server/adapter-kit';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { sendWebResponse } from './send-web-response.js';

/** Options for {@link expressErrorHandler}. */
export interface ExpressErrorHandlerOptions extends ClassifyErrorOptions {
  /** Receives every 5xx with the full error and trace id. Default: none (nothing is logged). */
  readonly logger?: Logger;
  /**
   * Locale of the messages: fixed, or per request. Default: the request's `Accept-Language`,
   * falling back to English.
   */
  readonly locale?: string | ((req: Request) => string | undefined);
}

const optionsSchema = z.strictObject({
  logger: loggerSchema.optional(),
  locale: z
    .union([
      z.string().min(1).max(35),
      z.custom<(req: Request) => string | undefined>((v) => typeof v === 'function'),
    ])
    .optional(),
  constraints: z
    .record(
      z.string(),
      z.strictObject({ code: z.string().optional(), field: z.string().optional() }),
    )
    .optional(),
});

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
    sendWebResponse(res, response).catch(next);
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
