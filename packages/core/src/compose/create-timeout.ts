/**
 * The timeout as a policy object, for `compose()`: `withTimeout()` with its limit fixed once.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { withTimeout } from '../timeout/with-timeout.js';
import type { Policy, PolicyContext, PolicyExecuteOptions } from './policy.js';

/** Options for {@link createTimeout}. */
export interface TimeoutOptions {
  /** The time limit of each call, in ms. Required. */
  timeoutMs: number;
  /** Source of timers. Default `systemClock`; tests pass a `ManualClock`. */
  clock?: Clock;
}

/** A timeout made by {@link createTimeout}. */
export interface Timeout extends Policy {
  /**
   * Runs `fn` with the time limit, as `withTimeout()` does: `fn`'s signal aborts at the limit
   * and the call rejects with `BallastError` `TIMEOUT`, or with `options.signal.reason` when the
   * caller aborts, even if `fn` ignores its signal.
   */
  execute<T>(
    fn: (context: PolicyContext) => T | PromiseLike<T>,
    options?: PolicyExecuteOptions,
  ): Promise<T>;
  /** The limit, ms. */
  readonly timeoutMs: number;
}

const timeoutSchema = v.object({
  timeoutMs: v.number({ greaterThan: 0 }),
  clock: v.optional(v.clock(), systemClock),
});

/**
 * Creates a timeout policy: each call through it gets `timeoutMs` milliseconds.
 *
 * @example
 * ```ts
 * const fiveSeconds = createTimeout({ timeoutMs: 5_000 });
 * const response = await fiveSeconds.execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export function createTimeout(options: TimeoutOptions): Timeout {
  const { timeoutMs, clock } = parseOptions(timeoutSchema, options, 'createTimeout()');
  return {
    timeoutMs,
    execute(fn, call) {
      return withTimeout((signal) => fn({ signal }), timeoutMs, {
        clock,
        ...(call?.signal === undefined ? {} : { signal: call.signal }),
      });
    },
  };
}
