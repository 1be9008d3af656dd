export {
  createSignatureGuard,
  defaultMaxSignedBodyBytes,
  type SignatureCheck,
  type SignatureGuard,
  type SignatureRefusal,
} from './signature-guard.js';
export { SignedCallError } from './signed-call-error.js';
export {
  createSignedClient,
  type ResponsePromise,
  type SignedClient,
  type SignedClientOptions,
  type SignedRequestInit,
} from './signed-client.js';
export {
  type SignatureScope,
  type VerifySignatureOptions,
  verifySignature,
} from './verify-signature.js';
