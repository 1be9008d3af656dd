export { createContentDigest, verifyContentDigest } from './content-digest.js';
export { MemoryNonceStore, type MemoryNonceStoreOptions } from './memory-nonce-store.js';
export type { NonceStore } from './nonce-store.js';
export type { SignatureFailureCode, SignatureFailureReason } from './signature-failure.js';
export { requestTargetOf } from './signed-fields.js';
export {
  createSigner,
  type SignatureHeaders,
  type Signer,
  type SignerOptions,
  type SignInput,
} from './signer.js';
export type {
  CanonicalForm,
  HeaderSource,
  SignatureEncoding,
  SignatureFormat,
  SignatureHeaderNames,
  SigningKey,
  SigningOptionsBase,
  TimestampUnit,
} from './signing-config.js';
export { type GenerateSigningSecretOptions, generateSigningSecret } from './signing-keys.js';
export { createVerifier } from './verifier.js';
export type {
  SignatureTolerance,
  VerifiedSignature,
  Verifier,
  VerifierOptions,
  VerifyInput,
} from './verifier-config.js';
