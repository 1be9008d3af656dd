export {
  type ExpressRateLimitOptions,
  expressRateLimitOptions,
} from './express-rate-limit-options.js';
