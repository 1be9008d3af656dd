export type { FetchHandler, WrappedHandler } from './fetch-handler.js';
export { readRequestBody } from './read-request-body.js';
