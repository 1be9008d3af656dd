/**
 * What every `BallastError` is (a code, a status, whether a retry may help, an action, details),
 * without the catalogue that `new BallastError(code)` looks those defaults up in.
 *
 * Why apart: `retry()`, `withTimeout()`, the circuit breaker, the bulkhead and every option check
 * throw a `BallastError`, and the class's constructor needs the whole catalogue, because any
 * code may be given to it. A page that imports only `retry` would carry all 47 codes (about
 * 0.7 kB min+gzip of its 5 kB budget, issue 13) to throw two of them. Those primitives build
 * their errors with this class instead, from the four entries of core-error-codes.ts.
 * What they throw is a `BallastError` all the same: `instanceof BallastError` and
 * {@link isBallastError} are true for it, it has the same fields, the same defaults and the same
 * `toJSON()`; only its constructor is this class rather than `BallastError` itself.
 */
import type { BallastErrorOptions, BallastError as PublicBallastError } from './ballast-error.js';
import type { ErrorAction, ErrorCodeInfo } from './error-codes.js';

/**
 * The class under `BallastError`. Core's own primitives construct it for their codes, with the
 * code's entry from core-error-codes.ts; everything else constructs a `BallastError`. It is
 * declared under that name too, so that `error.constructor.name` (what pino's serializer logs
 * as an error's `type`) reads `BallastError` for every one; it is exported as `CodedError`, on
 * `@ballast/core/adapter-kit` too, for packages whose browser bundles must not carry the
 * catalogue either (`@ballast/client`, issue 15).
 */
class BallastError extends Error {
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

  /**
   * @param known the code's catalogue entry, which `options` override; none for an unknown code.
   * A member it leaves out defaults as for an unknown code (500, not retryable, `'none'`).
   */
  constructor(code: string, options: BallastErrorOptions = {}, known?: Partial<ErrorCodeInfo>) {
    super(options.message ?? code, { cause: options.cause });
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
 * Type guard for `BallastError`, optionally for one code. Works across package copies (two
 * installed versions of `@ballast/core`) because it checks the shape, not the prototype.
 */
export function isBallastError(error: unknown, code?: string): error is PublicBallastError {
  const candidate = error as Partial<PublicBallastError> | null;
  // Anything can be thrown, including a value whose every read throws (a revoked proxy, a
  // throwing getter): a guard called in catch blocks must answer, not throw a second error.
  try {
    const isOne =
      error instanceof BallastError ||
      (typeof candidate === 'object' &&
        candidate !== null &&
        candidate.name === 'BallastError' &&
        typeof candidate.code === 'string' &&
        typeof candidate.status === 'number' &&
        typeof candidate.retryable === 'boolean');
    return isOne && (code === undefined || candidate?.code === code);
  } catch {
    return false;
  }
}

export { BallastError as CodedError };
