export {
  type ExpressTraceContextOptions,
  expressTraceContext,
  expressTraceScope,
} from './express-trace-context.js';
