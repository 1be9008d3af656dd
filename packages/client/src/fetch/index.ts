export type {
  ClientOptions,
  ClientRetryOptions,
  ConnectivityReporter,
} from './client-options.js';
export {
  type Client,
  type ClientResponse,
  createClient,
  type RequestOptions,
} from './create-client.js';
export { createIdempotencyKey } from './idempotency-key.js';
export { errorFromResponse } from './problem-response.js';
