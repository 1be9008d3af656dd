import {
  circuitOpenEntry,
  invalidOptionsEntry,
  queueFullEntry,
  timeoutEntry,
} from './core-error-codes.js';

/**
 * The error taxonomy. Each code is stable across releases: clients branch on it, so a code is
 * never renamed or reused for another meaning. HTTP status, retryability and the suggested
 * action are properties of the code, so every layer (server, client, logs) agrees on them.
 */
export const errorCatalogue = {
  // Bad input to Ballast itself (a programming error in the caller).
  INVALID_OPTIONS: invalidOptionsEntry,
  // Bad input from an end user or client.
  VALIDATION_FAILED: { status: 400, retryable: false, action: 'correct-input' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, action: 'correct-input' },
  // A body sent in a form the server does not decode (a `Content-Encoding` other than identity,
  // gzip, deflate or br, or several stacked), as express.json() answers it.
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, action: 'correct-input' },
  // Seed 000 §4: the product taxonomy.
  AUTH_SESSION_EXPIRED: { status: 401, retryable: false, action: 'redirect-login' },
  PAYMENT_REQUIRED: { status: 402, retryable: false, action: 'upgrade-plan' },
  CASE_CLOSED: { status: 409, retryable: false, action: 'read-only' },
  UPLOAD_FAILED: { status: 502, retryable: true, action: 'retry' },
  FORBIDDEN: { status: 403, retryable: false, action: 'none' },
  NOT_FOUND: { status: 404, retryable: false, action: 'none' },
  // Optimistic concurrency.
  VERSION_CONFLICT: { status: 409, retryable: false, action: 'reload-and-merge' },
  PRECONDITION_FAILED: { status: 412, retryable: false, action: 'reload-and-merge' },
  PRECONDITION_REQUIRED: { status: 428, retryable: false, action: 'correct-input' },
  // A concurrent transaction won a serialization race (Postgres 40001, or a deadlock 40P01, at
  // REPEATABLE READ or SERIALIZABLE): nothing was written and the same request may succeed at once.
  TRANSACTION_CONFLICT: { status: 409, retryable: true, action: 'retry' },
  // Database constraints, as the server's error handler classifies them.
  ALREADY_EXISTS: { status: 409, retryable: false, action: 'correct-input' },
  REFERENCE_CONFLICT: { status: 409, retryable: false, action: 'correct-input' },
  VALUE_REQUIRED: { status: 400, retryable: false, action: 'correct-input' },
  CONSTRAINT_VIOLATED: { status: 400, retryable: false, action: 'correct-input' },
  // Seed 000 §3: an invitation, a link or an offer past its validity.
  EXPIRED: { status: 410, retryable: false, action: 'none' },
  // Idempotency (IETF draft "The Idempotency-Key HTTP Header Field").
  IDEMPOTENCY_KEY_MISSING: { status: 400, retryable: false, action: 'correct-input' },
  IDEMPOTENCY_KEY_INVALID: { status: 400, retryable: false, action: 'correct-input' },
  IDEMPOTENCY_IN_FLIGHT: { status: 409, retryable: true, action: 'retry-later' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, retryable: false, action: 'use-new-key' },
  // The store could not be reached: refuse rather than risk running a duplicate.
  IDEMPOTENCY_STORE_UNAVAILABLE: { status: 503, retryable: true, action: 'retry-later' },
  // The store answers but its table or schema is missing or wrong: not an outage, a deployment
  // to fix (run the migration), so it is not retryable and is logged at error level.
  IDEMPOTENCY_STORE_NOT_MIGRATED: { status: 500, retryable: false, action: 'fix-configuration' },
  // Load shedding and resilience policies.
  RATE_LIMITED: { status: 429, retryable: true, action: 'retry-later' },
  TIMEOUT: timeoutEntry,
  ABORTED: { status: 499, retryable: false, action: 'none' },
  CIRCUIT_OPEN: circuitOpenEntry,
  QUEUE_FULL: queueFullEntry,
  // A database, cache or other dependency could not be reached (connection refused or lost,
  // the server shutting down or out of connections): the request may succeed shortly.
  SERVICE_UNAVAILABLE: { status: 503, retryable: true, action: 'retry-later' },
  NETWORK_ERROR: { status: 503, retryable: true, action: 'retry' },
  UPSTREAM_ERROR: { status: 502, retryable: true, action: 'retry' },
  // Signed internal calls (seed 003 §4).
  INVALID_SIGNATURE: { status: 403, retryable: false, action: 'none' },
  SIGNATURE_MISSING: { status: 403, retryable: false, action: 'none' },
  SIGNATURE_EXPIRED: { status: 403, retryable: false, action: 'none' },
  SIGNATURE_INVALID: { status: 403, retryable: false, action: 'none' },
  SIGNATURE_REPLAYED: { status: 403, retryable: false, action: 'none' },
  // Storage and consistency (seed 001).
  STORAGE_UNAVAILABLE: { status: 503, retryable: true, action: 'retry' },
  OBJECT_NOT_FOUND: { status: 404, retryable: false, action: 'none' },
  // An object key no storage can hold (empty, too long, control characters, lone surrogates).
  INVALID_KEY: { status: 400, retryable: false, action: 'correct-input' },
  COMPENSATION_FAILED: { status: 500, retryable: false, action: 'contact-support' },
  // Backups (seed 002 §1): one run at a time; a dump, copy or check that did not succeed.
  BACKUP_IN_PROGRESS: { status: 409, retryable: true, action: 'retry-later' },
  BACKUP_FAILED: { status: 500, retryable: false, action: 'contact-support' },
  // Events and the outbox (seed 003 §5 §6, seed 004): an event no consumer can ever handle goes
  // to the dead-letter state at once instead of burning retries.
  EVENT_UNKNOWN: { status: 422, retryable: false, action: 'none' },
  EVENT_INVALID: { status: 422, retryable: false, action: 'none' },
  OUTBOX_NOT_MIGRATED: { status: 500, retryable: false, action: 'fix-configuration' },
  // Anything not classified: the message is generic so internals never leak.
  INTERNAL: { status: 500, retryable: false, action: 'contact-support' },
} as const satisfies Record<string, ErrorCodeInfo>;

/** What a code means to HTTP and to a client deciding what to do next. */
export interface ErrorCodeInfo {
  /** HTTP status a server answers with. */
  readonly status: number;
  /** Whether repeating the same request may succeed. */
  readonly retryable: boolean;
  /** What the user interface should offer (seed 000 §4 "Action" column). */
  readonly action: ErrorAction;
}

/** Suggested next step for a client, stable like the codes. */
export type ErrorAction =
  | 'none'
  | 'retry'
  | 'retry-later'
  | 'redirect-login'
  | 'upgrade-plan'
  | 'read-only'
  | 'correct-input'
  | 'reload-and-merge'
  | 'use-new-key'
  | 'fix-configuration'
  | 'contact-support';

/** A code Ballast defines. Applications may use their own codes as plain strings too. */
export type BallastErrorCode = keyof typeof errorCatalogue;

/**
 * True when `code` is one of Ballast's own codes (a key of `errorCatalogue`), so its status,
 * retryability and messages are known; false for an application's own codes and anything else.
 */
export function isKnownErrorCode(code: string): code is BallastErrorCode {
  return Object.hasOwn(errorCatalogue, code);
}
