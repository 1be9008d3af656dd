export {
  type ExpressRateLimitMiddlewareOptions,
  type ExpressRateLimitOptions,
  type ExpressRateLimitStore,
  expressRateLimitOptions,
} from './express-rate-limit-options.js';
