export { type Awaitable, isPromiseLike, promiseFrom } from './awaitable.js';
export type { ClaimTicket, IdempotencyTicket } from './claim-ticket.js';
export {
  type FingerprintInput,
  type FingerprintOptions,
  fingerprint,
  fingerprintInSameTick,
} from './fingerprint.js';
export {
  beginInSameTick,
  createIdempotency,
  type Idempotency,
  type IdempotencyBegin,
  type IdempotencyCallOptions,
  type IdempotencyEngine,
  type IdempotencyHeartbeatOptions,
  type IdempotencyOperationContext,
  type IdempotencyOptions,
  type IdempotencyRequest,
  type IdempotencyRunOptions,
  type IdempotencyRunResult,
  type IdempotencyStart,
  type IdempotencyWaitOptions,
} from './idempotency-engine.js';
export type {
  IdempotencyEventBase,
  IdempotencyEventHandlers,
  IdempotencyEventMap,
  IdempotencyEventName,
} from './idempotency-events.js';
export {
  defaultIdempotencyScope,
  type InvalidKeyReason,
  maxIdempotencyKeyLength,
  validateIdempotencyKey,
} from './idempotency-key.js';
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
export {
  defaultMemoryIdempotencyMaxBytes,
  type MemoryIdempotencyEvictedEvent,
  MemoryIdempotencyStore,
  type MemoryIdempotencyStoreEvents,
  type MemoryIdempotencyStoreOptions,
} from './memory-idempotency-store.js';
