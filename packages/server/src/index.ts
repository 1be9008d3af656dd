/**
 * `@ballast/server`: HTTP semantics on web-standard `Request`/`Response`, each name listed.
 * Intentionally not exported from here: the framework-neutral guards that the Express and
 * Fastify adapters are built on, and the same-tick fingerprint, which live on
 * `@ballast/server/adapter-kit`. `packages/server/api-report.md` lists this entry; a name that
 * appears or disappears there needs a changeset.
 */

// Errors → RFC 9457 problem+json responses.
export { type ProblemResponseOptions, problemResponse } from './errors/index.js';

// Fetch handler types shared by every middleware.
export type { FetchHandler, WrappedHandler } from './http/index.js';

// Idempotency middleware, key header and recorded responses.
export {
  defaultRecordedHeaders,
  defaultReleaseStatuses,
  type IdempotencyMiddlewareOptions,
  idempotency,
  idempotencyKeyHeader,
  idempotentReplayedHeader,
  maxIdempotencyKeyHeaderLength,
  parseIdempotencyKey,
  type RecordedBody,
  type RecordedResponse,
  type ResponseHeaderRecord,
  type ResponseParts,
  recordResponse,
  replayResponse,
  requestFingerprint,
} from './idempotency/index.js';

// Signing: verifying inbound requests, signing outbound calls.
export {
  createSignedClient,
  defaultMaxSignedBodyBytes,
  type ResponsePromise,
  type SignatureGuardOptions,
  type SignatureScope,
  SignedCallError,
  type SignedClient,
  type SignedClientOptions,
  type SignedRequestInit,
  type VerifySignatureOptions,
  verifySignature,
} from './signing/index.js';

// Trace context: middleware, ambient trace scope, trace-aware logging.
export {
  ambientTraceLogger,
  currentTraceContext,
  currentTraceScope,
  hasAmbientTrace,
  runWithTrace,
  type TraceContextOptions,
  type TraceScope,
  traceContext,
} from './trace/index.js';
