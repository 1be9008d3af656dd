export { defaultMaxRequestIdLength, parseRequestId } from './request-id.js';
export {
  type CreateTraceContextOptions,
  childSpan,
  createTraceContext,
  type TraceContext,
} from './trace-context.js';
export {
  createTraceReader,
  type HeaderReader,
  pickTraceFromHeadersOptions,
  type TraceFromHeadersOptions,
  type TraceReader,
  traceContextFromHeaders,
  traceHeaders,
} from './trace-headers.js';
export { generateSpanId, generateTraceId, isValidSpanId, isValidTraceId } from './trace-ids.js';
export { traceLogFields, withTraceLogger } from './trace-logger.js';
export { formatTraceparent, parseTraceparent, type Traceparent } from './traceparent.js';
