/**
 * `@ballast/server/adapter-kit`: the framework-neutral pieces Ballast's Express and Fastify
 * adapters are built on, for authors of adapters to other frameworks. An application uses the
 * middleware on `@ballast/server` or an adapter on `@ballast/adapters/<framework>` instead.
 */

// Error handlers: the options every framework's error handler takes, and their schema.
export { type ErrorHandlerOptions, errorHandlerOptionsSchema } from '../errors/index.js';
// Whether a driver's error says a dependency could not be reached (the error handler's 503).
export { isUnreachableDependency } from '../errors/unreachable-dependency.js';
// Request bodies: the one bounded reader of a web Request's body, the content codings decoded
// (the rest refused with 415) and the bounded decoder of a compressed body.
export {
  type ContentCoding,
  decodeRequestBody,
  hasZlibHeader,
  readRequestBody,
  requestContentCoding,
  undecodableBody,
} from '../http/index.js';
// Idempotency: the guard that decides claim / replay / refuse for a request, and the
// request fingerprint in its parts (answered in the same tick where SHA-256 is synchronous).
export {
  checkIdempotencyScope,
  createIdempotencyGuard,
  type ExecutionEnd,
  fingerprintPartsInSameTick,
  fingerprintRequestParts,
  type IdempotencyDecision,
  type IdempotencyGuard,
  type IdempotencyGuardOptions,
  type IdempotencyGuardRequest,
  type IdempotentExecution,
  idempotencyScopeOptionSchema,
  isIdempotencyKeyHeldByMiddleware,
  isJsonContentType,
  type RequestFingerprintParts,
} from '../idempotency/index.js';
// Option validation with zod: schemas for values zod has no type for, checked by shape.
export {
  abortSignalSchema,
  clockSchema,
  functionSchema,
  loggerSchema,
  methodsSchema,
} from '../options/index.js';
// Rate limits: the options every framework's limiter takes (an adapter adds its store), their
// schema, the limit they resolve to, the counter key of a request and whether its IP is allow-listed.
export {
  allowListMatcher,
  type RateLimitOptions,
  rateLimitKey,
  rateLimitOptionsSchema,
  resolveRateLimit,
} from '../rate-limit/index.js';
// Signing: the guard that verifies a request and turns a refusal into a response.
export {
  createSignatureGuard,
  type SignatureCheck,
  type SignatureGuard,
  type SignatureRefusal,
} from '../signing/index.js';
// Validation: checks a schemas object once, when an adapter's route is defined.
export { checkRequestSchemas } from '../validation/index.js';
