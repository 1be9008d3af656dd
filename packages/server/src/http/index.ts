export {
  type ContentCoding,
  hasZlibHeader,
  requestContentCoding,
  undecodableBody,
} from './content-coding.js';
export { decodeRequestBody } from './decode-request-body.js';
export type { FetchHandler, WrappedHandler } from './fetch-handler.js';
export { readRequestBody } from './read-request-body.js';
