export type { FetchHandler, WrappedHandler } from './fetch-handler.js';
