/**
 * A time limit that actually stops the work. `withTimeout()` hands the work an AbortSignal that
 * fires when the limit passes (or the caller's own signal aborts), so a `fetch`, a query or a
 * stream is cancelled instead of running on unobserved; and the returned promise settles at the
 * limit even if the work ignores its signal, so a caller is never held past the time it asked for.
 */

import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import type { BallastError } from '../errors/ballast-error.js';
import { CodedError } from '../errors/coded-error.js';
import { timeoutEntry } from '../errors/core-error-codes.js';
import { parseOptions } from '../options/parse-options.js';
import { isAbortSignalLike, isClockLike } from '../options/shape-checks.js';
import * as v from '../options/small-validator.js';
import { AbortableRun } from './abortable-run.js';

/** Options for {@link withTimeout}. */
export interface WithTimeoutOptions {
  /**
   * The caller's signal. When it aborts, the work's signal aborts too and `withTimeout()`
   * rejects at once with `signal.reason`. Default: none.
   */
  signal?: AbortSignal;
  /** Source of timers. Default `systemClock`; tests pass a `ManualClock`. */
  clock?: Clock;
}

const withTimeoutSchema = v.object({
  fn: v.func(),
  ms: v.number({ greaterThan: 0 }),
  options: v.optional(
    v.object({ signal: v.optional(v.abortSignal()), clock: v.optional(v.clock()) }),
  ),
});

function onlyKnownKeys(options: object): boolean {
  for (const key in options) if (key !== 'signal' && key !== 'clock') return false;
  return !Array.isArray(options);
}

/** `fn` under a limit of `ms`: one object per call. */
class TimeoutRun<T> extends AbortableRun<T> {
  readonly #fn: (signal: AbortSignal) => T | PromiseLike<T>;
  readonly #ms: number;

  constructor(fn: (signal: AbortSignal) => T | PromiseLike<T>, ms: number) {
    super();
    this.#fn = fn;
    this.#ms = ms;
  }

  protected work(): T | PromiseLike<T> {
    return this.#fn(this.signal);
  }

  protected timeoutError(): BallastError {
    return new CodedError(
      'TIMEOUT',
      {
        message: `Timed out after ${this.#ms} ms`,
        details: { timeoutMs: this.#ms },
      },
      timeoutEntry,
    );
  }
}

/**
 * Runs `fn` with a time limit of `ms` milliseconds.
 *
 * - `fn` receives an `AbortSignal` that aborts when the limit passes (reason: the `TIMEOUT`
 *   error) or when `options.signal` aborts (reason: that signal's reason). Pass it on to
 *   `fetch`, your database driver or stream, so the work really stops.
 * - Resolves or rejects with `fn`'s outcome if it settles in time.
 * - Rejects with `BallastError` `TIMEOUT` (retryable, `details.timeoutMs`) at the limit, and with
 *   `options.signal.reason` on abort, even if `fn` ignores its signal; what `fn` produces after
 *   that is discarded.
 * - Releases its timer as soon as it settles. The signal is not aborted after `fn` succeeds, so
 *   a response body can still be read from it.
 * - Bad input (a non-function, `ms` not a positive number) rejects with `INVALID_OPTIONS`.
 *
 * @example
 * ```ts
 * const response = await withTimeout((signal) => fetch(url, { signal }), 5_000);
 * ```
 */
export function withTimeout<T>(
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  ms: number,
  options?: WithTimeoutOptions,
): Promise<T> {
  // The common, valid call is checked by hand (cheaper than building the schema's output);
  // anything else goes to the schema, which names the offending field.
  const plainlyValid =
    typeof fn === 'function' &&
    typeof ms === 'number' &&
    ms > 0 &&
    (options === undefined ||
      (typeof options === 'object' &&
        options !== null &&
        onlyKnownKeys(options) &&
        (options.signal === undefined || isAbortSignalLike(options.signal)) &&
        (options.clock === undefined || isClockLike(options.clock))));
  if (!plainlyValid) {
    try {
      parseOptions(withTimeoutSchema, { fn, ms, options }, 'withTimeout()');
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return new TimeoutRun(fn, ms).run(options?.clock ?? systemClock, ms, options?.signal);
}
