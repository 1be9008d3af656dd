/**
 * The errors the client builds itself, with their defaults (status, retryability, action) named
 * here instead of looked up. `new BallastError(code)` reads core's whole catalogue, 47 codes and
 * 0.6 kB min+gzip, because any code may be given to it; the client builds 17 (and uploads and temporary ids one each), and a page
 * with its fetch, connectivity and write queue has 8 kB in all (issue 15). A code the server
 * sends keeps the `action` and `retryable` the server sent with it (problem-response.ts).
 * Each entry is the catalogue's own, which client-error.test.ts checks. What is built is a
 * `BallastError` all the same: `instanceof BallastError` and `isBallastError` hold for it.
 */
import {
  type BallastError,
  type BallastErrorOptions,
  type ErrorCodeInfo,
  isBallastError,
} from '@ballast/core';
import { CodedError } from '@ballast/core/adapter-kit';

/** Each code the client gives an error; a member left out is 500, not retryable, `'none'`. */
export const clientErrorCodes: Readonly<Record<string, Partial<ErrorCodeInfo>>> = {
  // Before any answer: no answer, too late, cancelled, a wrong argument, a bug.
  NETWORK_ERROR: { status: 503, retryable: true, action: 'retry' },
  TIMEOUT: { status: 504, retryable: true, action: 'retry' },
  ABORTED: { status: 499 },
  INVALID_OPTIONS: { action: 'fix-configuration' },
  INTERNAL: { action: 'contact-support' },
  // The write queue's storage refused a write (out of quota): it was not queued.
  STORAGE_UNAVAILABLE: { status: 503, retryable: true, action: 'retry' },
  // An error answer whose body names no code gets the first 4xx code here with its status
  // (problem-response.ts), so VERSION_CONFLICT comes before REFERENCE_CONFLICT.
  VALIDATION_FAILED: { status: 400, action: 'correct-input' },
  AUTH_SESSION_EXPIRED: { status: 401, action: 'redirect-login' },
  PAYMENT_REQUIRED: { status: 402, action: 'upgrade-plan' },
  FORBIDDEN: { status: 403 },
  NOT_FOUND: { status: 404 },
  VERSION_CONFLICT: { status: 409, action: 'reload-and-merge' },
  PRECONDITION_FAILED: { status: 412, action: 'reload-and-merge' },
  PAYLOAD_TOO_LARGE: { status: 413, action: 'correct-input' },
  PRECONDITION_REQUIRED: { status: 428, action: 'correct-input' },
  RATE_LIMITED: { status: 429, retryable: true, action: 'retry-later' },
  UPSTREAM_ERROR: { status: 502, retryable: true, action: 'retry' },
};

/**
 * A `BallastError` with `code`'s defaults from {@link clientErrorCodes}, which `options`
 * override; a code not listed there gets those of an unknown code (500, not retryable, `'none'`).
 * A module that alone builds a code (uploads' `UPLOAD_FAILED`, temporary ids'
 * `REFERENCE_CONFLICT`) passes its `defaults` itself, so a page without it does not carry them;
 * client-error.test.ts checks them against the catalogue too.
 */
export function clientError(
  code: string,
  options?: BallastErrorOptions,
  // A code such as `toString` finds an inherited member, which has none of the three fields.
  defaults = clientErrorCodes[code],
): BallastError {
  return new CodedError(code, options, defaults);
}

/**
 * Anything thrown as a `BallastError`: one passes through, anything else is `INTERNAL` with the
 * original as `cause` (core's `toBallastError`, without the catalogue).
 */
export const asClientError = (error: unknown): BallastError =>
  isBallastError(error) ? error : clientError('INTERNAL', { cause: error });
