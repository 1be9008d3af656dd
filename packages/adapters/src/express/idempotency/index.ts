export { type ExpressIdempotencyOptions, expressIdempotency } from './express-idempotency.js';
