export { allowListMatcher } from './client-address.js';
export {
  type RateLimitOptions,
  rateLimitKey,
  rateLimitOptionsSchema,
  resolveRateLimit,
} from './rate-limit-options.js';
export {
  localhostAddresses,
  type RateLimitPreset,
  type RateLimitPresetName,
  rateLimitedError,
  rateLimitPresets,
} from './rate-limit-presets.js';
