/**
 * The one error type that crosses Ballast's public boundaries. Every failure a user can see
 * carries a stable `code`, so clients branch on data rather than on message text.
 *
 * The class holds data only. What a person reads (`userMessage()`, in English, Spanish or a
 * registered locale) and the problem+json body (`toProblem()`) are free functions in
 * problem.ts: every policy throws `BallastError`, and a browser bundle that imports `retry`
 * must not carry two languages of messages it never shows.
 */
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
export class BallastError extends Error {
  override readonly name: string = 'BallastError';
  // The fields below are declared, not defined: the constructor assigns each one, and a class
  // field would only add its name to every bundle once more (issue 13).
  /** Stable machine-readable code, e.g. `'IDEMPOTENCY_KEY_REUSED'`. */
  declare readonly code: string;
  /** HTTP status a server answers with. */
  declare readonly status: number;
  /** Whether repeating the same request may succeed. */
  declare readonly retryable: boolean;
  /** What a client should offer the user next. */
  declare readonly action: ErrorAction;
  /** Client-safe structured details. */
  declare readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, options: BallastErrorOptions = {}) {
    super(options.message ?? code, { cause: options.cause });
    const known = isKnownErrorCode(code) ? errorCatalogue[code] : undefined;
    this.code = code;
    this.status = options.status ?? known?.status ?? 500;
    this.retryable = options.retryable ?? known?.retryable ?? false;
    this.action = options.action ?? known?.action ?? 'none';
    this.details = options.details ?? {};
  }

  /** JSON form for logs: developer message and details, without the cause chain. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      status: this.status,
      message: this.message,
      retryable: this.retryable,
      action: this.action,
      details: this.details,
    };
  }
}

/**
 * Type guard for {@link BallastError}, optionally for one code. Works across package copies
 * (two installed versions of `@ballast/core`) because it checks the shape, not the prototype.
 */
export function isBallastError(error: unknown, code?: string): error is BallastError {
  if (error instanceof BallastError) return code === undefined || error.code === code;
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as Partial<BallastError>;
  const looksLike =
    candidate.name === 'BallastError' &&
    typeof candidate.code === 'string' &&
    typeof candidate.status === 'number' &&
    typeof candidate.retryable === 'boolean';
  return looksLike && (code === undefined || candidate.code === code);
}

/**
 * Normalises anything thrown into a {@link BallastError}. A `BallastError` passes through;
 * anything else becomes `INTERNAL` with the original kept as `cause`, so its message (which
 * may hold SQL or a path) never reaches a client.
 */
export function toBallastError(error: unknown): BallastError {
  if (isBallastError(error)) return error;
  return new BallastError('INTERNAL', { cause: error });
}
