/**
 * Trace context for Fastify: the same per-request trace as `@ballast/server`'s `traceContext()`,
 * translated to Fastify hooks. `request.trace` holds it, `request.log` (Fastify's own pino child)
 * writes its ids on every line, responses echo it, and it is ambient for the request's work.
 */
import {
  createTraceReader,
  type Logger,
  type TraceContext,
  type TraceFromHeadersOptions,
  traceHeaders,
  traceLogFields,
  withTraceLogger,
} from '@ballast/core';
import { parseOptions, pickTraceFromHeadersOptions } from '@ballast/core/adapter-kit';
import { runWithTrace, type TraceScope } from '@ballast/server';
import { loggerSchema } from '@ballast/server/adapter-kit';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { assertCallbackPluginArguments } from '../plugin-arguments.js';
import { unencapsulatedPlugin } from '../unencapsulated-plugin.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's trace context, set by `fastifyTraceContext`. */
    trace: TraceContext;
  }
}

/** Options for {@link fastifyTraceContext}. */
export interface FastifyTraceContextOptions extends TraceFromHeadersOptions {
  /**
   * Logger for the ambient trace scope (`currentTraceScope().logger`). Default: the request's
   * own `request.log`, which gets the trace ids bound either way.
   */
  logger?: Logger;
  /** Set `traceparent` and the request id header on every response. Default `true`. */
  responseHeaders?: boolean;
}

const optionsSchema = z.object({
  logger: loggerSchema.optional(),
  responseHeaders: z.boolean().default(true),
});

function headerReader(request: FastifyRequest) {
  return {
    get(name: string): string | undefined {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

const traceContextPlugin: FastifyPluginCallback<FastifyTraceContextOptions> = (
  fastify,
  options,
  done,
) => {
  assertCallbackPluginArguments('fastifyTraceContext()', fastify, options, done);
  // Bad options go to done(), so they reject app.register() / app.ready() instead of throwing
  // inside Fastify's callback-style loader, where nothing can catch them.
  let parsed: z.output<typeof optionsSchema>;
  let readTrace: ReturnType<typeof createTraceReader>;
  try {
    parsed = parseOptions(optionsSchema, options, 'fastifyTraceContext()');
    // The reader validates the trace fields of the same options object.
    readTrace = createTraceReader(pickTraceFromHeadersOptions(options));
  } catch (error) {
    done(error as Error);
    return;
  }
  const { logger, responseHeaders } = parsed;
  const requestIdHeader = (options.requestIdHeader ?? 'x-request-id').toLowerCase();
  const scopes = new WeakMap<FastifyRequest, TraceScope>();

  fastify.decorateRequest('trace', null as unknown as TraceContext);
  fastify.addHook('onRequest', (request, reply, next) => {
    const trace = readTrace(headerReader(request));
    request.trace = trace;
    // Fastify's own request logger keeps its reqId and format, and gains the trace ids.
    request.log = request.log.child(traceLogFields(trace));
    reply.log = request.log;
    const scope: TraceScope = {
      trace,
      logger: logger ? withTraceLogger(logger, trace) : request.log,
    };
    scopes.set(request, scope);
    if (responseHeaders) reply.headers(traceHeaders(trace, requestIdHeader));
    runWithTrace(scope, next);
  });
  // Body parsing runs in the socket's async context, not the hook's; entering the scope again
  // before the handler keeps the trace ambient for the route itself.
  fastify.addHook('preHandler', (request, _reply, next) => {
    const scope = scopes.get(request);
    if (scope) runWithTrace(scope, next);
    else next();
  });
  done();
};

/**
 * Fastify plugin: gives every request a trace. Register it before your routes (it is not encapsulated,
 * as with `fastify-plugin`, so its hooks apply to the whole instance).
 *
 * @example
 * ```ts
 * await app.register(fastifyTraceContext);
 * app.get('/orders/:id', (request) => {
 *   request.log.info('loading order'); // carries traceId and spanId
 *   return { traceId: request.trace.traceId };
 * });
 * ```
 */
export const fastifyTraceContext = unencapsulatedPlugin(traceContextPlugin, {
  name: '@ballast/adapters/fastify/trace-context',
  fastify: '>=4.26',
});
