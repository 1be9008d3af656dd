/**
 * The one error type that crosses Ballast's public boundaries. Every failure a user can see
 * carries a stable `code`, so clients branch on data rather than on message text.
 *
 * The class holds data only. What a person reads (`userMessage()`, in English, Spanish or a
 * registered locale) and the problem+json body (`toProblem()`) are free functions in
 * problem.ts: every policy throws `BallastError`, and a browser bundle that imports `retry`
 * must not carry two languages of messages it never shows.
 */
import { CodedError, isBallastError } from './coded-error.js';
import { type ErrorAction, errorCatalogue, isKnownErrorCode } from './error-codes.js';

/** Options for {@link BallastError}. Everything but the code is optional. */
export interface BallastErrorOptions {
  /**
   * Developer-facing message (logs). Defaults to the code itself (`'TIMEOUT'`); what a person
   * reads comes from `userMessage(error, locale)`, never from this.
   */
  message?: string;
  /** HTTP status. Defaults to the catalogue's status for a known code, else 500. */
  status?: number;
  /** Whether repeating the same request may succeed. Defaults to the catalogue's value. */
  retryable?: boolean;
  /** Suggested next step for a client. Defaults to the catalogue's value. */
  action?: ErrorAction;
  /** The underlying error, kept for logs and debugging; never serialised to clients. */
  cause?: unknown;
  /**
   * Structured, client-safe details (a field name, a retry delay, conflicting fields).
   * Serialised into problem+json, so never put secrets or internals here.
   */
  details?: Record<string, unknown>;
}

/**
 * A failure with a stable `code`, an HTTP `status`, a suggested `action` and whether a retry
 * may help. Show people `userMessage(error, locale)`; answer HTTP with `toProblem(error)`.
 *
 * @example
 * ```ts
 * throw new BallastError('VERSION_CONFLICT', { details: { fields: ['title'] } });
 * ```
 */
export class BallastError extends CodedError {
  constructor(code: string, options?: BallastErrorOptions) {
    super(code, options, isKnownErrorCode(code) ? errorCatalogue[code] : undefined);
  }

  /**
   * True for every `BallastError`: those this class constructs and those core's own primitives
   * build without the catalogue (coded-error.ts). A subclass (`VersionConflictError`) keeps the
   * ordinary test of its prototype.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of instanceof, BallastError or a subclass
    return this === BallastError ? value instanceof CodedError : super[Symbol.hasInstance](value);
  }
}

export { isBallastError };

/**
 * Normalises anything thrown into a {@link BallastError}. A `BallastError` passes through;
 * anything else becomes `INTERNAL` with the original kept as `cause`, so its message (which
 * may hold SQL or a path) never reaches a client.
 */
export function toBallastError(error: unknown): BallastError {
  if (isBallastError(error)) return error;
  return new BallastError('INTERNAL', { cause: error });
}
