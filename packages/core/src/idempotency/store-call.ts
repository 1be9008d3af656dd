/**
 * Every call the engine makes to an idempotency store runs under a timeout and fails with a
 * Ballast error, so a store that is down answers 503 within `storeTimeoutMs` instead of hanging
 * the request (a driver's offline queue or reconnect loop can hold a command for a minute), and
 * no raw driver error ever reaches a response. A store that is reachable but not migrated is
 * told apart from an outage: it never heals by itself, so it must not look like one.
 */
import type { Clock } from '../clock/clock.js';
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import { type Awaitable, isPromiseLike } from './awaitable.js';

/**
 * Resolves or rejects as `pending` does, or rejects with `IDEMPOTENCY_STORE_UNAVAILABLE` after
 * `timeoutMs`. A value that is already there (the memory store) is returned as it is, with no
 * timer.
 *
 * @internal
 */
export function withinStoreTimeout<T>(
  pending: Awaitable<T>,
  clock: Clock,
  timeoutMs: number,
  operation: string,
): Awaitable<T> {
  if (!isPromiseLike(pending)) return pending;
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimer(() => {
      reject(
        new BallastError('IDEMPOTENCY_STORE_UNAVAILABLE', {
          message: `The idempotency store did not answer ${operation} within ${timeoutMs} ms.`,
          details: { retryAfterSeconds: retryAfterSecondsFor(timeoutMs) },
        }),
      );
    }, timeoutMs);
    pending.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}

/** Seconds a client should wait before retrying after a store failure: the timeout, at least 1. */
export function retryAfterSecondsFor(storeTimeoutMs: number): number {
  return Math.max(1, Math.ceil(storeTimeoutMs / 1_000));
}

/**
 * What a store failure means for the caller: `IDEMPOTENCY_STORE_NOT_MIGRATED` and
 * `IDEMPOTENCY_STORE_UNAVAILABLE` raised by the store are kept (with a `Retry-After` added to
 * the latter); any other failure is an outage, `IDEMPOTENCY_STORE_UNAVAILABLE` with the original
 * as `cause` (never shown to a client).
 *
 * @internal
 */
export function toStoreFailure(error: unknown, storeTimeoutMs: number): BallastError {
  if (isBallastError(error)) {
    if (error.code === 'IDEMPOTENCY_STORE_NOT_MIGRATED') return error;
    if (error.code === 'IDEMPOTENCY_STORE_UNAVAILABLE') {
      if (typeof error.details.retryAfterSeconds === 'number') return error;
      return new BallastError('IDEMPOTENCY_STORE_UNAVAILABLE', {
        message: error.message,
        details: { ...error.details, retryAfterSeconds: retryAfterSecondsFor(storeTimeoutMs) },
        cause: error.cause ?? error,
      });
    }
  }
  return new BallastError('IDEMPOTENCY_STORE_UNAVAILABLE', {
    details: { retryAfterSeconds: retryAfterSecondsFor(storeTimeoutMs) },
    cause: error,
  });
}

/** True for the failure that means the store's table or schema is missing or wrong. */
export function isStoreNotMigrated(error: unknown): boolean {
  return isBallastError(error) && error.code === 'IDEMPOTENCY_STORE_NOT_MIGRATED';
}
