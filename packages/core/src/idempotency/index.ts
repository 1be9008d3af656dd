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
