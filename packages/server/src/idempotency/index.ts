export {
  createIdempotencyGuard,
  isIdempotencyKeyHeldByMiddleware,
} from './idempotency-guard.js';
export {
  defaultReleaseStatuses,
  type ExecutionEnd,
  type IdempotencyDecision,
  type IdempotencyGuard,
  type IdempotencyGuardOptions,
  type IdempotencyGuardRequest,
  type IdempotentExecution,
  idempotencyScopeOptionSchema,
} from './idempotency-guard-config.js';
export {
  idempotencyKeyHeader,
  maxIdempotencyKeyHeaderLength,
  parseIdempotencyKey,
} from './idempotency-key-header.js';
export {
  type IdempotencyMiddlewareOptions,
  idempotency,
} from './idempotency-middleware.js';
export { checkIdempotencyScope } from './idempotency-scope.js';
export {
  defaultRecordedHeaders,
  idempotentReplayedHeader,
  type RecordedBody,
  type RecordedResponse,
  type ResponseHeaderRecord,
  type ResponseParts,
  recordResponse,
  replayResponse,
} from './recorded-response.js';
export {
  fingerprintPartsInSameTick,
  fingerprintRequestParts,
  isJsonContentType,
  type RequestFingerprintParts,
  requestFingerprint,
} from './request-fingerprint.js';
