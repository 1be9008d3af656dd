/**
 * The catalogue entries of the codes that core's browser-path primitives throw themselves:
 * `retry()` and `withTimeout()` (`TIMEOUT`), the circuit breaker (`CIRCUIT_OPEN`), the bulkhead
 * (`QUEUE_FULL`) and every option check (`INVALID_OPTIONS`). They are the catalogue's own
 * entries (error-codes.ts takes them from here), kept apart, one constant each, so that a bundle
 * importing only `retry` carries the two it throws and not the whole catalogue (issue 13: about
 * 0.7 kB min+gzip of a 5 kB budget). See coded-error.ts.
 */

/** `INVALID_OPTIONS`: bad input to Ballast itself (a programming error in the caller). */
export const invalidOptionsEntry = {
  status: 500,
  retryable: false,
  action: 'fix-configuration',
} as const;

/** `TIMEOUT`: a time limit passed. */
export const timeoutEntry = { status: 504, retryable: true, action: 'retry' } as const;

/** `CIRCUIT_OPEN`: the circuit breaker refused the call. */
export const circuitOpenEntry = { status: 503, retryable: true, action: 'retry-later' } as const;

/** `QUEUE_FULL`: the bulkhead refused the call. */
export const queueFullEntry = { status: 503, retryable: true, action: 'retry-later' } as const;
