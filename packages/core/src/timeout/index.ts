export { type WithTimeoutOptions, withTimeout } from './with-timeout.js';
