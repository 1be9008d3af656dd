/**
 * One trace per request, end to end (seed 003 "Observability": a correlation id across all
 * layers, logged at every boundary). The middleware continues the caller's trace or starts one,
 * hands it to the handler explicitly (and ambiently where `AsyncLocalStorage` exists), binds it
 * to the handler's logger, and echoes it in the response, so a user's bug report, the API's log
 * line and the edge's log line all carry the same id.
 */
import {
  type Clock,
  createTraceReader,
  type Logger,
  noopLogger,
  systemClock,
  type TraceFromHeadersOptions,
  traceHeaders,
  withTraceLogger,
} from '@ballast/core';
import { parseOptions, pickTraceFromHeadersOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import type { FetchHandler, WrappedHandler } from '../http/fetch-handler.js';
import { setResponseHeaders } from '../http/set-response-headers.js';
import { clockSchema, loggerSchema } from '../options/index.js';
import { runWithTrace, type TraceScope } from './async-trace-storage.js';

/** Options for {@link traceContext}. */
export interface TraceContextOptions extends TraceFromHeadersOptions {
  /** Logger to bind the trace to; handlers receive the bound one. Default: discards logs. */
  logger?: Logger;
  /** Add `traceparent` and the request id header to every response. Default `true`. */
  responseHeaders?: boolean;
  /**
   * Write one `info` line per request when it completes (`method`, `path`, `status`,
   * `durationMs`) and an `error` line when the handler throws. Default `false`.
   */
  logRequests?: boolean;
  /** Source of time for `durationMs`. Default `systemClock`. */
  clock?: Clock;
}

const middlewareSchema = z.object({
  logger: loggerSchema.default(noopLogger),
  responseHeaders: z.boolean().default(true),
  logRequests: z.boolean().default(false),
  clock: clockSchema.default(systemClock),
});

/**
 * Wraps a fetch handler so each request runs with a {@link TraceScope}: `context.trace` (from
 * `traceparent`, else a UUID-shaped `x-request-id`, else new) and `context.logger` (your logger
 * with `traceId`/`spanId` on every line). On runtimes with `AsyncLocalStorage` the same scope is
 * ambient for the whole request (see `currentTraceContext()`), so the signing client propagates
 * the trace without being told. Invalid trace headers are ignored, never an error.
 *
 * A handler error is logged (when `logRequests`) and rethrown unchanged: turning it into a
 * response is the job of the layer that owns error formatting.
 *
 * @example
 * ```ts
 * const handler = traceContext({ logger: pino() })(async (request, { trace, logger }) => {
 *   logger.info({}, 'handling'); // {"traceId":"4bf9…","spanId":"…","msg":"handling"}
 *   return Response.json({ traceId: trace.traceId });
 * });
 * Deno.serve((request) => handler(request));
 * ```
 */
export function traceContext(
  options: TraceContextOptions = {},
): <Context extends object = object>(
  handler: FetchHandler<Context & TraceScope>,
) => WrappedHandler<Context> {
  const { logger, responseHeaders, logRequests, clock } = parseOptions(
    middlewareSchema,
    options,
    'traceContext()',
  );
  // The reader validates the trace fields of the same options object.
  const readTrace = createTraceReader(pickTraceFromHeadersOptions(options));
  const requestIdHeader = (options.requestIdHeader ?? 'x-request-id').toLowerCase();

  return <Context extends object = object>(handler: FetchHandler<Context & TraceScope>) =>
    async (request: Request, context?: Context): Promise<Response> => {
      const trace = readTrace(request.headers);
      const scope: TraceScope = { trace, logger: withTraceLogger(logger, trace) };
      const started = clock.now();
      const path = new URL(request.url).pathname;
      let response: Response;
      try {
        response = await runWithTrace(scope, () =>
          handler(request, { ...(context as Context), ...scope }),
        );
      } catch (error) {
        if (logRequests) {
          scope.logger.error(
            { method: request.method, path, durationMs: clock.now() - started, err: error },
            'request failed',
          );
        }
        throw error;
      }
      if (logRequests) {
        scope.logger.info(
          {
            method: request.method,
            path,
            status: response.status,
            durationMs: clock.now() - started,
          },
          'request completed',
        );
      }
      return responseHeaders
        ? setResponseHeaders(response, traceHeaders(trace, requestIdHeader))
        : response;
    };
}
