/**
 * Reading and writing the trace on the wire. A receiver either continues the caller's trace
 * (`traceparent`, then `x-request-id`) or starts a new one; it never fails a request over a
 * bad trace header, because tracing is an aid and must not become an outage.
 */
import { assertObjectArgument, invalidArgument } from '../options/invalid-argument.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { defaultMaxRequestIdLength, parseRequestId, traceIdFromRequestId } from './request-id.js';
import { createTraceContext, type TraceContext } from './trace-context.js';
import { generateSpanId } from './trace-ids.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

/** Anything with `get(name)` like `Headers`; adapters wrap Node's header objects in one. */
export interface HeaderReader {
  get(name: string): string | null | undefined;
}

/** Options for {@link traceContextFromHeaders}. */
export interface TraceFromHeadersOptions {
  /**
   * Whether to continue a trace the caller sent. Set `false` on a public boundary where clients
   * must not choose the ids that appear in your logs. Default `true`.
   */
  trustIncoming?: boolean;
  /** Header carrying the request id. Default `'x-request-id'`. */
  requestIdHeader?: string;
  /** Longest request id accepted; longer ones are ignored. Default `128`, at most `1024`. */
  maxRequestIdLength?: number;
  /** Sampled flag for a trace started here. Default `true`. */
  sampled?: boolean;
}

const traceFromHeadersSchema = v.object({
  trustIncoming: v.optional(v.boolean(), true),
  requestIdHeader: v.optional(
    v.transform(v.string({ pattern: /^[A-Za-z0-9-]+$/ }), (name) => name.toLowerCase()),
    'x-request-id',
  ),
  maxRequestIdLength: v.optional(
    v.number({ integer: true, min: 1, max: 1024 }),
    defaultMaxRequestIdLength,
  ),
  sampled: v.optional(v.boolean(), true),
});

/**
 * The trace fields of a larger options object (a middleware's), for {@link createTraceReader},
 * whose options are strict: a middleware validates its own fields and hands these on.
 */
export function pickTraceFromHeadersOptions(
  options: TraceFromHeadersOptions,
): TraceFromHeadersOptions {
  assertObjectArgument(options, 'pickTraceFromHeadersOptions()', '(options)', 'an options object');
  const { trustIncoming, requestIdHeader, maxRequestIdLength, sampled } = options;
  return { trustIncoming, requestIdHeader, maxRequestIdLength, sampled };
}

/** Reads the trace context of one request; made by {@link createTraceReader}. */
export type TraceReader = (headers: HeaderReader) => TraceContext;

/**
 * Validates `options` once and returns a reader to call per request, so a middleware pays for
 * option parsing at start-up, not on every request. The reader behaves as
 * {@link traceContextFromHeaders}.
 *
 * @example
 * ```ts
 * const readTrace = createTraceReader({ trustIncoming: false });
 * const trace = readTrace(request.headers);
 * ```
 */
export function createTraceReader(options?: TraceFromHeadersOptions): TraceReader {
  const { trustIncoming, requestIdHeader, maxRequestIdLength, sampled } = parseOptions(
    traceFromHeadersSchema,
    options ?? {},
    'createTraceReader()',
  );
  return (headers) => {
    if (!trustIncoming) return createTraceContext({ sampled });
    const requestId = parseRequestId(headers.get(requestIdHeader), maxRequestIdLength);
    const withRequestId = (context: TraceContext): TraceContext =>
      requestId === undefined ? context : { ...context, requestId };
    const parent = parseTraceparent(headers.get('traceparent'));
    if (parent) {
      return withRequestId({
        traceId: parent.traceId,
        spanId: generateSpanId(),
        parentId: parent.parentId,
        sampled: parent.sampled,
      });
    }
    const fromRequestId = requestId === undefined ? undefined : traceIdFromRequestId(requestId);
    return withRequestId(
      createTraceContext({
        ...(fromRequestId === undefined ? {} : { traceId: fromRequestId }),
        sampled,
      }),
    );
  };
}

/**
 * The trace context of an incoming request: the caller's trace continued with a new span when
 * it sent a valid `traceparent`; else a trace whose id is the caller's `x-request-id` when that
 * is a UUID or 32 hex digits; else a new trace. A safe `x-request-id` is kept as `requestId`
 * in every case. Invalid headers are ignored, never an error.
 *
 * @example
 * ```ts
 * const trace = traceContextFromHeaders(request.headers);
 * ```
 */
export function traceContextFromHeaders(
  headers: HeaderReader,
  options?: TraceFromHeadersOptions,
): TraceContext {
  if (typeof (headers as Partial<HeaderReader> | null)?.get !== 'function') {
    throw invalidArgument('traceContextFromHeaders()', 'headers', 'Headers (an object with get())');
  }
  return createTraceReader(options)(headers);
}

/**
 * Headers that carry `context` to the next hop (or back to the caller): `traceparent` naming
 * this span, and the request id (the caller's, or the trace id when there was none).
 *
 * @param requestIdHeader header name for the request id. Default `'x-request-id'`.
 */
export function traceHeaders(
  context: TraceContext,
  requestIdHeader = 'x-request-id',
): Record<string, string> {
  assertObjectArgument(context, 'traceHeaders()', 'context', 'a TraceContext');
  return {
    traceparent: formatTraceparent(context),
    [requestIdHeader]: context.requestId ?? context.traceId,
  };
}
