/**
 * The explicit trace context. Every Ballast function that propagates a trace takes this object
 * (or reads it from the ambient storage on runtimes that have one), so a trace id survives
 * retries, signed calls, jobs and log lines without any hidden global.
 */
import { assertObjectArgument, assertOptionalOptions } from '../options/invalid-argument.js';
import { generateSpanId, generateTraceId } from './trace-ids.js';

/** One span of one trace, as carried between services and into log lines. */
export interface TraceContext {
  /** 32 lowercase hex characters shared by every span of the trace. */
  readonly traceId: string;
  /** 16 lowercase hex characters naming this unit of work; sent as the next hop's parent. */
  readonly spanId: string;
  /** The caller's span id, when this span continues a trace from elsewhere. */
  readonly parentId?: string;
  /** The W3C `sampled` flag: whether the caller records this trace. */
  readonly sampled: boolean;
  /**
   * The `x-request-id` the caller sent, when it sent a safe one. Echoed back and propagated
   * as received, so systems that speak only request ids still see their own id.
   */
  readonly requestId?: string;
}

/** Options for {@link createTraceContext}. */
export interface CreateTraceContextOptions {
  /** Trace id to use; a new random one when absent. Must be a valid W3C trace id. */
  traceId?: string;
  /** The `sampled` flag. Default `true`. */
  sampled?: boolean;
  /** A request id to carry alongside. */
  requestId?: string;
}

/**
 * Starts a new trace (or a root span of a given trace id).
 *
 * @example
 * ```ts
 * const trace = createTraceContext();
 * logger.info({ traceId: trace.traceId }, 'job started');
 * ```
 */
export function createTraceContext(options: CreateTraceContextOptions = {}): TraceContext {
  assertOptionalOptions(options, 'createTraceContext()');
  const context: TraceContext = {
    traceId: options.traceId ?? generateTraceId(),
    spanId: generateSpanId(),
    sampled: options.sampled ?? true,
  };
  return options.requestId === undefined ? context : { ...context, requestId: options.requestId };
}

/**
 * A child span of `parent`: same trace id, sampled flag and request id, a new span id, and
 * `parent.spanId` as its parent. Use one per outgoing call, so the callee's logs name the
 * hop that called it.
 */
export function childSpan(parent: TraceContext): TraceContext {
  assertObjectArgument(parent, 'childSpan()', 'parent', 'a TraceContext');
  const child: TraceContext = {
    traceId: parent.traceId,
    spanId: generateSpanId(),
    parentId: parent.spanId,
    sampled: parent.sampled,
  };
  return parent.requestId === undefined ? child : { ...child, requestId: parent.requestId };
}
