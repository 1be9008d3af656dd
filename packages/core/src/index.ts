/**
 * `@ballast/core`: everything an application imports, each name listed. Intentionally not
 * exported from here: what only adapter authors need (the same-tick idempotency API, option
 * schemas and `parseOptions`, `throwIfAborted`, object-key helpers for storage implementations)
 * lives on `@ballast/core/adapter-kit`, and fault injection for tests on `@ballast/core/testing`.
 * `scripts/api-report.ts` lists this entry in `packages/core/api-report.md`; a name that appears
 * or disappears there needs a changeset.
 */

// Backups: the runner (dumps hashed on the way, run records, retention, off-site copies,
// verification), its ports and in-memory implementations, and the schedule.
export {
  type BackupAlert,
  type BackupDownload,
  type BackupEvents,
  type BackupFiles,
  type BackupProgress,
  type BackupRun,
  type BackupRunner,
  type BackupRunnerConfig,
  type BackupRunPatch,
  type BackupRunStatus,
  type BackupRunStore,
  type BackupSchedule,
  type BackupScheduleConfig,
  type BackupSource,
  type BackupVerificationReport,
  backupFileName,
  type CopyCheck,
  createBackupRunner,
  type ListBackupRunsOptions,
  MemoryBackupFiles,
  MemoryBackupRunStore,
  type NewBackupRun,
  type OffsiteStatus,
  type RestoreCheckResult,
  type RunBackupOptions,
  scheduleBackups,
  type VerifyBackupsOptions,
} from './backup/index.js';

// Bulkhead: bounded concurrency with a bounded queue.
export {
  type Bulkhead,
  type BulkheadExecuteOptions,
  type BulkheadOptions,
  createBulkhead,
} from './bulkhead/index.js';

// Circuit breaker.
export {
  type BreakReason,
  type CircuitBreakEvent,
  type CircuitBreaker,
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitExecuteOptions,
  type CircuitState,
  type CircuitStateChange,
  createCircuitBreaker,
} from './circuit-breaker/index.js';

// Clock: injectable time, and a manual clock for deterministic tests.
export { type CancelTimer, type Clock, ManualClock, systemClock } from './clock/index.js';

// Composition: several policies as one, with one signal threaded through.
export {
  compose,
  createTimeout,
  type Policy,
  type PolicyContext,
  type PolicyExecuteOptions,
  type Timeout,
  type TimeoutOptions,
} from './compose/index.js';

// Storage–database consistency recipes.
export {
  type ConfirmUploadOptions,
  confirmUpload,
  createUploadTokens,
  type DeletedDocument,
  type DocumentRecordContext,
  type DocumentRecordRef,
  type DocumentRecords,
  type DocumentStatus,
  type IssueSignedUploadOptions,
  issueSignedUpload,
  type ListByKeyOptions,
  type MarkThenDeleteOptions,
  type MemoryDependantRow,
  MemoryDocumentRecords,
  type MemoryDocumentRecordsOptions,
  type MemoryDocumentRow,
  markThenDelete,
  type NewDocumentRecord,
  type RecipeOptions,
  type RecordedObject,
  type SignedUpload,
  type SoftDeletedRecord,
  type UploadInTransactionOptions,
  type UploadThenRecordOptions,
  type UploadTokenClaims,
  type UploadTokens,
  type UploadTokensOptions,
  uploadInTransaction,
  uploadThenRecord,
} from './consistency/index.js';

// Errors: BallastError, the code catalogue; localised messages and problem+json as functions.
export {
  BallastError,
  type BallastErrorCode,
  type BallastErrorOptions,
  type ErrorAction,
  type ErrorCodeInfo,
  englishMessages,
  errorCatalogue,
  isBallastError,
  isKnownErrorCode,
  type MessageCatalogue,
  type ProblemDetails,
  registerMessages,
  spanishMessages,
  type ToProblemOptions,
  toBallastError,
  toProblem,
  userMessage,
  userMessageFor,
} from './errors/index.js';

// Events: versioned event types, upcasters, the catalog consumers decode with, and the
// engine-neutral event processor (decode, upcast, trace, inbox, dead-letter classification).
export {
  type CreateEventOptions,
  createEventCatalog,
  createEventProcessor,
  type DecodedEvent,
  type DecodeOptions,
  type DeliveryInfo,
  defineEvent,
  defineUpcaster,
  type EventCatalog,
  type EventCatalogOptions,
  type EventDefinition,
  type EventEnvelope,
  type EventHandlerContext,
  type EventInput,
  type EventOutput,
  type EventProcessor,
  type EventProcessorOptions,
  type EventSubscription,
  type EventUpcaster,
  handleEvent,
  isDeadLetterError,
  type ProcessOutcome,
} from './events/index.js';

// Guards: validity windows.
export { assertNotExpired } from './guards/index.js';
// Idempotency engine, key rules and the store port.
export {
  type ClaimOutcome,
  type ClaimRequest,
  type CompleteRequest,
  createIdempotency,
  defaultIdempotencyScope,
  defaultMemoryIdempotencyMaxBytes,
  type ExtendLeaseRequest,
  type FingerprintInput,
  type FingerprintOptions,
  fingerprint,
  type Idempotency,
  type IdempotencyBegin,
  type IdempotencyCallOptions,
  type IdempotencyEventBase,
  type IdempotencyEventHandlers,
  type IdempotencyEventMap,
  type IdempotencyEventName,
  type IdempotencyHeartbeatOptions,
  type IdempotencyKeyRef,
  type IdempotencyOperationContext,
  type IdempotencyOptions,
  type IdempotencyRequest,
  type IdempotencyRunOptions,
  type IdempotencyRunResult,
  type IdempotencyStore,
  type IdempotencyTicket,
  type IdempotencyWaitOptions,
  type InvalidKeyReason,
  type MemoryIdempotencyEvictedEvent,
  MemoryIdempotencyStore,
  type MemoryIdempotencyStoreEvents,
  type MemoryIdempotencyStoreOptions,
  maxIdempotencyKeyLength,
  type RecordedResult,
  type ReleaseRequest,
  validateIdempotencyKey,
} from './idempotency/index.js';
// Optimistic locking: the conflict error and the field-level three-way merge.
export {
  isVersionConflict,
  type MergeConflictPolicy,
  type MergeFieldsOptions,
  type MergeResult,
  mergeFields,
  VersionConflictError,
  type VersionConflictErrorOptions,
} from './locking/index.js';

// Logging: the pino-compatible logger port.
export { type Logger, type LogMethod, noopLogger } from './logging/index.js';

// Outbox: the write and relay ports, the memory outbox, the relay, publishers (function,
// in-process) and the inbox.
export {
  type CommitWatch,
  createFunctionPublisher,
  createInProcessPublisher,
  createRelay,
  type InboxOutcome,
  type InboxRef,
  type InboxStore,
  type InProcessDeadLetter,
  type InProcessPublisher,
  type InProcessPublisherEvents,
  type InProcessPublisherOptions,
  MemoryInboxStore,
  type MemoryInboxStoreOptions,
  MemoryOutbox,
  type MemoryOutboxOptions,
  type MemoryOutboxRow,
  type MemoryOutboxTransaction,
  type OutboxClaimRequest,
  type OutboxDeadLetter,
  type OutboxEntry,
  type OutboxParkRequest,
  type OutboxRedriveFilter,
  type OutboxReleaseRequest,
  type OutboxSettleRequest,
  type OutboxStore,
  type OutboxWriter,
  type Publisher,
  type PublishFunction,
  type RedriveFilter,
  type Relay,
  type RelayBackoffOptions,
  type RelayBreakerOptions,
  type RelayDeadLetterEvent,
  type RelayDepthEvent,
  type RelayEvents,
  type RelayOptions,
  type RelayPublishedEvent,
  type RelayPublishFailedEvent,
  type RelayRejectedEvent,
  type RelayStepResult,
  relayDefaults,
} from './outbox/index.js';

// Reconciliation of storage against records.
export {
  type ReconcileAction,
  type ReconcileCounts,
  type ReconcileKind,
  type ReconcileOptions,
  type ReconcileProgress,
  type ReconcileReport,
  type ReconciliationSchedule,
  reconcile,
  type ScheduleReconciliationOptions,
  scheduleReconciliation,
} from './reconcile/index.js';

// Retry: backoff, classification, budgets.
export {
  type ClassifyContext,
  classifyError,
  composeClassifiers,
  createRetryBudget,
  type ErrorClassifier,
  type ExponentialBackoff,
  type GiveUpEvent,
  type GiveUpReason,
  isRetrySafeRequest,
  type JitterMode,
  parseRetryAfter,
  type RetryAttempt,
  type RetryableFunction,
  type RetryBudget,
  type RetryBudgetOptions,
  type RetryBudgetStats,
  type RetryCallOptions,
  type RetryEvent,
  type RetryEvents,
  type RetryOptions,
  type RetryPolicy,
  type RetryPresetName,
  type RetryRequest,
  type RetryVerdict,
  retry,
  retryPolicy,
  retryPresets,
} from './retry/index.js';

// Sagas: steps with compensations, and the two-step compensation recipe.
export {
  type CompensateOptions,
  CompensationFailedError,
  type CompensationFailure,
  compensate,
  type Saga,
  type SagaContext,
  type SagaFailure,
  type SagaOptions,
  type SagaStep,
  saga,
  sagaFailureKey,
  sagaFailureOf,
  type WithStepResult,
} from './saga/index.js';

// Signing: HMAC request signatures, verification, nonces, content digests.
export {
  type CanonicalForm,
  createContentDigest,
  createSigner,
  createVerifier,
  type GenerateSigningSecretOptions,
  generateSigningSecret,
  type HeaderSource,
  MemoryNonceStore,
  type MemoryNonceStoreOptions,
  type NonceStore,
  requestTargetOf,
  type SignatureEncoding,
  type SignatureFailureCode,
  type SignatureFailureReason,
  type SignatureFormat,
  type SignatureHeaderNames,
  type SignatureHeaders,
  type SignatureTolerance,
  type Signer,
  type SignerOptions,
  type SignInput,
  type SigningKey,
  type SigningOptionsBase,
  type TimestampUnit,
  type VerifiedSignature,
  type Verifier,
  type VerifierOptions,
  type VerifyInput,
  verifyContentDigest,
} from './signing/index.js';

// Object storage: the port, an in-memory implementation and a local presigner.
export {
  type ListObjectsOptions,
  LocalPresigner,
  type LocalPresignerOptions,
  MemoryObjectStorage,
  type MemoryObjectStorageOptions,
  maxObjectKeyBytes,
  type ObjectBody,
  type ObjectInfo,
  type ObjectPage,
  type ObjectStorage,
  type PresignedGrant,
  type PresignedRequest,
  type PresignOptions,
  type PutObjectOptions,
  type StorageCallOptions,
  type StoredObject,
} from './storage/index.js';

// Timeout.
export { type WithTimeoutOptions, withTimeout } from './timeout/index.js';

// Trace context: W3C traceparent, request ids, trace-aware logging.
export {
  type CreateTraceContextOptions,
  childSpan,
  createTraceContext,
  createTraceReader,
  defaultMaxRequestIdLength,
  formatTraceparent,
  generateSpanId,
  generateTraceId,
  type HeaderReader,
  isValidSpanId,
  isValidTraceId,
  parseRequestId,
  parseTraceparent,
  type TraceContext,
  type TraceFromHeadersOptions,
  type Traceparent,
  type TraceReader,
  traceContextFromHeaders,
  traceHeaders,
  traceLogFields,
  withTraceLogger,
} from './trace/index.js';
