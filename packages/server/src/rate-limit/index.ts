export {
  localhostAddresses,
  type RateLimitPreset,
  type RateLimitPresetName,
  rateLimitedError,
  rateLimitPresets,
} from './rate-limit-presets.js';
