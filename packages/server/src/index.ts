/**
 * `@ballast/server`: HTTP semantics on web-standard `Request`/`Response`, each name listed.
 * Intentionally not exported from here: the framework-neutral guards that the Express and
 * Fastify adapters are built on, and the same-tick fingerprint, which live on
 * `@ballast/server/adapter-kit`. `packages/server/api-report.md` lists this entry; a name that
 * appears or disappears there needs a changeset.
 */

// Errors → RFC 9457 problem+json responses: classify anything thrown, answer it safely.
export {
  type ClassifyErrorOptions,
  type ConstraintMapping,
  classifyError,
  type FieldIssue,
  type ProblemResponseOptions,
  preferredLocale,
  problemResponse,
  type ToResponseOptions,
  toResponse,
  validationFailed,
} from './errors/index.js';

// Health: /health with per-check timeouts, and the dependency-free live ping.
export {
  checkHealth,
  type HealthCheck,
  type HealthCheckResult,
  type HealthOptions,
  type HealthProbe,
  type HealthReport,
  health,
  healthStatus,
  live,
  liveReport,
  storageHealthCheck,
} from './health/index.js';

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

// Optimistic locking over HTTP: ETag from a version, If-Match → 412, missing → 428.
export {
  type AssertIfMatchOptions,
  assertIfMatch,
  type ExpectedVersion,
  expectedVersion,
  type IfMatchOptions,
  preconditionFailed,
  versionETag,
  writeIfMatch,
} from './locking/index.js';

// Rate limiting: seed 004's presets for the ecosystem limiters, and the 429 they answer.
export {
  localhostAddresses,
  type RateLimitPreset,
  type RateLimitPresetName,
  rateLimitedError,
  rateLimitPresets,
} from './rate-limit/index.js';

// Signing: verifying inbound requests, signing outbound calls.
export {
  createSignedClient,
  defaultMaxSignedBodyBytes,
  type ResponsePromise,
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

// Validation: zod schemas per request part, one 400 listing every field.
export {
  type RequestPart,
  type RequestSchemas,
  type ValidatedInput,
  type ValidatedPart,
  validateRequestParts,
} from './validation/index.js';
