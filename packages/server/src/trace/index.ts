export { ambientTraceLogger } from './ambient-trace-logger.js';
export {
  currentTraceContext,
  currentTraceScope,
  hasAmbientTrace,
  runWithTrace,
  type TraceScope,
} from './async-trace-storage.js';
export { type TraceContextOptions, traceContext } from './trace-context-middleware.js';
