export {
  captureRawBody,
  type ExpressVerifySignatureOptions,
  expressSignature,
  expressVerifySignature,
} from './express-verify-signature.js';
