/**
 * Trace context for Express: the same per-request trace as `@ballast/server`'s `traceContext()`
 * (continue `traceparent` / `x-request-id` or start one, echo it in the response, bind it to a
 * logger, make it ambient), translated to Express's `(req, res, next)`.
 */
import {
  BallastError,
  createTraceReader,
  type Logger,
  noopLogger,
  type TraceFromHeadersOptions,
  traceHeaders,
  withTraceLogger,
} from '@ballast/core';
import {
  invalidArgument,
  parseOptions,
  pickTraceFromHeadersOptions,
} from '@ballast/core/adapter-kit';
import { runWithTrace, type TraceScope } from '@ballast/server';
import { loggerSchema } from '@ballast/server/adapter-kit';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { isObject } from '../../options/is-object.js';

/** Options for {@link expressTraceContext}. */
export interface ExpressTraceContextOptions extends TraceFromHeadersOptions {
  /** Logger to bind the trace to (`res.locals.logger`). Default: discards logs. */
  logger?: Logger;
  /** Set `traceparent` and the request id header on every response. Default `true`. */
  responseHeaders?: boolean;
}

const optionsSchema = z.object({
  logger: loggerSchema.default(noopLogger),
  responseHeaders: z.boolean().default(true),
});

const scopeKey = 'ballastTrace';

/** Node's header object as the trace reader wants it: one string per name. */
function headerReader(request: Request) {
  return {
    get(name: string): string | undefined {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * Express middleware: gives every request a trace. Read it with {@link expressTraceScope}
 * (`{ trace, logger }`), or ambiently with `currentTraceContext()` from `@ballast/server`
 * anywhere the request's work runs. Register it before body parsers and routes.
 *
 * @example
 * ```ts
 * app.use(expressTraceContext({ logger: pino() }));
 * app.post('/orders', (req, res) => {
 *   const { trace, logger } = expressTraceScope(res);
 *   logger.info({}, 'creating order');
 *   res.json({ traceId: trace.traceId });
 * });
 * ```
 */
export function expressTraceContext(options: ExpressTraceContextOptions = {}): RequestHandler {
  const { logger, responseHeaders } = parseOptions(optionsSchema, options, 'expressTraceContext()');
  // The reader validates the trace fields of the same options object.
  const readTrace = createTraceReader(pickTraceFromHeadersOptions(options));
  const requestIdHeader = (options.requestIdHeader ?? 'x-request-id').toLowerCase();
  return (req, res, next) => {
    const trace = readTrace(headerReader(req));
    const scope: TraceScope = { trace, logger: withTraceLogger(logger, trace) };
    res.locals[scopeKey] = scope;
    // Set now, before the route writes anything; a route that sets its own value overrides it.
    if (responseHeaders) {
      for (const [name, value] of Object.entries(traceHeaders(trace, requestIdHeader))) {
        res.setHeader(name, value);
      }
    }
    runWithTrace(scope, () => next());
  };
}

/**
 * The trace scope {@link expressTraceContext} attached to this response. Throws
 * `INVALID_OPTIONS` when the middleware is not installed, because a silent fresh trace would
 * hide the misconfiguration in every log line.
 */
export function expressTraceScope(res: Response): TraceScope {
  if (!isObject(res) || !isObject(res.locals)) {
    throw invalidArgument('expressTraceScope()', 'res', 'an Express response');
  }
  const scope = res.locals[scopeKey] as TraceScope | undefined;
  if (!scope) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'expressTraceScope(): expressTraceContext() is not installed before this route',
    });
  }
  return scope;
}
