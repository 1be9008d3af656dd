/**
 * The catalogue entries of the codes that core's browser-path primitives throw themselves:
 * `retry()` and `withTimeout()` (`TIMEOUT`), the circuit breaker (`CIRCUIT_OPEN`), the bulkhead
 * (`QUEUE_FULL`) and every option check (`INVALID_OPTIONS`). They are the catalogue's own
 * entries (error-codes.ts takes them from here), kept apart so that a bundle importing only
 * `retry` carries these four and not the whole catalogue (issue 13: about 0.7 kB min+gzip of a
 * 5 kB budget). See coded-error.ts.
 */
export const coreErrorCodes = {
  // Bad input to Ballast itself (a programming error in the caller).
  INVALID_OPTIONS: { status: 500, retryable: false, action: 'fix-configuration' },
  TIMEOUT: { status: 504, retryable: true, action: 'retry' },
  CIRCUIT_OPEN: { status: 503, retryable: true, action: 'retry-later' },
  QUEUE_FULL: { status: 503, retryable: true, action: 'retry-later' },
} as const;

/** A code core's own primitives throw. */
export type CoreErrorCode = keyof typeof coreErrorCodes;
