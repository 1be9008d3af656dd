export {
  captureRawBody,
  expressSignature,
  expressVerifySignature,
  type VerifySignatureOptions,
} from './express-verify-signature.js';
