export {
  payloadTooLarge,
  type ReadBodyStreamOptions,
  readBodyStream,
} from './read-body-stream.js';
