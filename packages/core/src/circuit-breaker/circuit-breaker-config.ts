/**
 * The circuit breaker's configuration: its states, events and options (what each means and its
 * default, the TSDoc users read), the `CircuitBreaker` interface, and the schemas that are the
 * authority on what is valid. The behaviour is in circuit-breaker.ts.
 */

import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import type { PolicyContext } from '../compose/policy.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import * as v from '../options/small-validator.js';

export type { BreakReason } from './trip-condition.js';

import type { BreakReason } from './trip-condition.js';

/**
 * - `closed`: calls go through; failures are counted.
 * - `open`: calls are rejected with `CIRCUIT_OPEN` until `halfOpenAfter` has passed.
 * - `half-open`: one probe call is in flight or about to be; the others are rejected.
 * - `isolated`: held open by hand with `isolate()`.
 */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Passed to `onStateChange` listeners. */
export interface CircuitStateChange {
  readonly from: CircuitState;
  readonly to: CircuitState;
}

/** Passed to `onBreak` listeners when the circuit opens. */
export interface CircuitBreakEvent {
  /** What opened it. */
  readonly reason: BreakReason;
  /** The failure that tripped it (absent for `isolated`). */
  readonly error?: unknown;
}

/** The events a circuit breaker emits, by name, with their listeners' types. */
export interface CircuitBreakerEvents {
  /** Every state change. */
  stateChange: (change: CircuitStateChange) => void;
  /** The circuit opened (or was isolated). */
  break: (event: CircuitBreakEvent) => void;
  /** The circuit became half-open: the next call is a probe. */
  halfOpen: () => void;
  /** The circuit closed again. */
  reset: () => void;
}

/** Options for {@link createCircuitBreaker}. Choose `consecutiveFailures` or `failureRatio`. */
export interface CircuitBreakerOptions {
  /** Open after this many failures in a row. Default `5` (unless `failureRatio` is given). */
  consecutiveFailures?: number;
  /**
   * Open when this share of the calls in the last `window` ms failed (`0.5` = half), once the
   * window holds at least `minThroughput` calls. Default: not used.
   */
  failureRatio?: number;
  /** With `failureRatio`: calls the window must hold before the ratio counts. Default `10`. */
  minThroughput?: number;
  /** With `failureRatio`: the rolling window, ms. Default `30_000`. */
  windowMs?: number;
  /** @deprecated Renamed `windowMs` (durations end in `Ms`); still accepted. */
  window?: number;
  /** How long the circuit stays open before a probe call is let through, ms. Default `10_000`. */
  halfOpenAfterMs?: number;
  /** @deprecated Renamed `halfOpenAfterMs` (durations end in `Ms`); still accepted. */
  halfOpenAfter?: number;
  /**
   * Listeners, by event: `{ break: ({ reason }) => … }`. The same as subscribing with
   * {@link CircuitBreaker.on} right after creation. A throwing listener is logged, never
   * changes a call's outcome. Default: none.
   */
  on?: Partial<CircuitBreakerEvents>;
  /**
   * Which errors count against the dependency. Errors that do not count are treated as
   * successes (the dependency answered). Default: errors `classifyError` would retry (network
   * errors, timeouts, 5xx, unknown errors), so a 404 or a validation error never opens it.
   */
  isFailure?: (error: unknown) => boolean;
  /** Source of time. Default `systemClock`. */
  clock?: Clock;
  /** Receives errors thrown by event listeners. Default: discarded. */
  logger?: Logger;
}

/** Options for one {@link CircuitBreaker.execute} call. */
export interface CircuitExecuteOptions {
  /**
   * The caller's signal. If it is already aborted the call is rejected with its reason without
   * running; if it aborts before the call fails, that failure says nothing about the dependency
   * and is not counted.
   */
  signal?: AbortSignal;
}

/** A circuit breaker made by {@link createCircuitBreaker}. */
export interface CircuitBreaker {
  /** The current state. An open circuit reads `open` until a call arrives after `halfOpenAfterMs`. */
  readonly state: CircuitState;
  /**
   * Runs `fn` if the circuit allows it, with `{ signal }` (`options.signal` passed on).
   * Resolves or rejects with `fn`'s outcome; rejects with `BallastError` `CIRCUIT_OPEN`
   * (retryable; `details.state`, and when open
   * `details.retryAfterMs` / `retryAfterSeconds`) without calling `fn` when it does not.
   */
  execute<T>(
    fn: (context: PolicyContext) => T | PromiseLike<T>,
    options?: CircuitExecuteOptions,
  ): Promise<T>;
  /**
   * Holds the circuit open (state `isolated`) until the returned function is called, e.g. while
   * a dependency is under maintenance. Several holds stack; the circuit closes when all are
   * released.
   */
  isolate(): () => void;
  /**
   * Subscribes `listener` to `event` (`'stateChange'`, `'break'`, `'halfOpen'`, `'reset'`);
   * returns a function that unsubscribes.
   */
  on<Name extends keyof CircuitBreakerEvents>(
    event: Name,
    listener: CircuitBreakerEvents[Name],
  ): () => void;
  /** @deprecated Use `on('stateChange', listener)`. Returns a function that unsubscribes. */
  onStateChange(listener: (change: CircuitStateChange) => void): () => void;
  /** @deprecated Use `on('break', listener)`. Returns a function that unsubscribes. */
  onBreak(listener: (event: CircuitBreakEvent) => void): () => void;
  /** @deprecated Use `on('halfOpen', listener)`. Returns a function that unsubscribes. */
  onHalfOpen(listener: () => void): () => void;
  /** @deprecated Use `on('reset', listener)`. Returns a function that unsubscribes. */
  onReset(listener: () => void): () => void;
}

/** The options as `createCircuitBreaker()` validates them. */
export const breakerSchema = v.refine(
  v.object({
    consecutiveFailures: v.optional(v.number({ integer: true, min: 1 })),
    failureRatio: v.optional(v.number({ greaterThan: 0, max: 1 })),
    minThroughput: v.optional(v.number({ integer: true, min: 1 })),
    windowMs: v.optional(v.number({ integer: true, min: 10, max: 86_400_000 })),
    window: v.optional(v.number({ integer: true, min: 10, max: 86_400_000 })),
    halfOpenAfterMs: v.optional(v.durationMs()),
    halfOpenAfter: v.optional(v.durationMs()),
    on: v.optional(
      v.object({
        stateChange: v.optional(v.func<CircuitBreakerEvents['stateChange']>()),
        break: v.optional(v.func<CircuitBreakerEvents['break']>()),
        halfOpen: v.optional(v.func<CircuitBreakerEvents['halfOpen']>()),
        reset: v.optional(v.func<CircuitBreakerEvents['reset']>()),
      }),
    ),
    isFailure: v.optional(v.func<(error: unknown) => boolean>()),
    clock: v.optional(v.clock(), systemClock),
    logger: v.optional(v.logger(), noopLogger),
  }),
  (options) => {
    if (options.consecutiveFailures !== undefined && options.failureRatio !== undefined) {
      return {
        path: ['failureRatio'],
        message: 'choose consecutiveFailures or failureRatio, not both',
      };
    }
    for (const [key, old] of [
      ['halfOpenAfterMs', 'halfOpenAfter'],
      ['windowMs', 'window'],
    ] as const) {
      if (options[key] !== undefined && options[old] !== undefined) {
        return { path: [old], message: `use ${key} alone (${old} is its deprecated name)` };
      }
    }
    for (const key of ['minThroughput', 'windowMs', 'window'] as const) {
      if (options[key] !== undefined && options.failureRatio === undefined) {
        return { path: [key], message: 'only used with failureRatio' };
      }
    }
    return undefined;
  },
);

/** Options of one `execute()` call. */
export const executeSchema = v.object({ signal: v.optional(v.abortSignal()) });
/** The arguments of `breaker.on(event, listener)`. */
export const breakerOnSchema = v.object({
  event: v.literal('stateChange', 'break', 'halfOpen', 'reset'),
  listener: v.func(),
});

/** Options as validated. */
export type ParsedBreakerOptions = v.Infer<typeof breakerSchema>;
