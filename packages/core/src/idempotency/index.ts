export { type Awaitable, isPromiseLike, promiseFrom } from './awaitable.js';
export type { IdempotencyTicket } from './claim-ticket.js';
export {
  type FingerprintInput,
  type FingerprintOptions,
  fingerprint,
  fingerprintInSameTick,
} from './fingerprint.js';
export type {
  IdempotencyHeartbeatOptions,
  IdempotencyOptions,
  IdempotencyWaitOptions,
} from './idempotency-config.js';
export { createIdempotency } from './idempotency-engine.js';
export {
  beginInSameTick,
  type Idempotency,
  type IdempotencyBegin,
  type IdempotencyCallOptions,
  type IdempotencyEngine,
  type IdempotencyOperationContext,
  type IdempotencyRequest,
  type IdempotencyRunOptions,
  type IdempotencyRunResult,
} from './idempotency-engine-types.js';
export type {
  IdempotencyEventBase,
  IdempotencyEventHandlers,
  IdempotencyEventMap,
  IdempotencyEventName,
} from './idempotency-events.js';
export {
  defaultIdempotencyScope,
  type InvalidKeyReason,
  isStorableText,
  maxIdempotencyKeyLength,
  validateIdempotencyKey,
} from './idempotency-key.js';
export { idempotencyScopeError, maxScopeLength } from './idempotency-scope.js';
export type {
  ClaimOutcome,
  ClaimRequest,
  CompleteRequest,
  ExtendLeaseRequest,
  IdempotencyKeyRef,
  IdempotencyStore,
  RecordedResult,
  ReleaseRequest,
} from './idempotency-store.js';
export { jsonStringLiteral } from './json-string-literal.js';
export { MemoryIdempotencyStore } from './memory-idempotency-store.js';
export {
  defaultMemoryIdempotencyMaxBytes,
  type MemoryIdempotencyEvictedEvent,
  type MemoryIdempotencyStoreEvents,
  type MemoryIdempotencyStoreOptions,
} from './memory-idempotency-store-config.js';
