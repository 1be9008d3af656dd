/**
 * `retry()`'s options: what each one means and its default (the TSDoc users read). What is
 * valid, and how a bad option is reported, is decided by retry-options-schema.ts.
 */
import type { Clock } from '../clock/clock.js';
import type { JitterMode, RetryPresetName } from './backoff-schedule.js';
import type { ErrorClassifier } from './classify-error.js';
import type { RetryRequest } from './idempotency-guard.js';
import type { RetryBudget } from './retry-budget.js';

/** Passed to `onRetry` before each backoff sleep. */
export interface RetryEvent {
  /** The attempt that failed, from 1. The next attempt is `attempt + 1`. */
  readonly attempt: number;
  /** What it failed with. */
  readonly error: unknown;
  /** Milliseconds `retry()` now waits before the next attempt (jitter and Retry-After applied). */
  readonly delayMs: number;
  /** @deprecated Renamed `delayMs` (durations end in `Ms`); the same number. */
  readonly delay: number;
}

/** Why `retry()` stopped. */
export type GiveUpReason =
  /** The classifier said the error is not worth retrying. */
  | 'not-retryable'
  /** Every allowed retry was used. */
  | 'retries-exhausted'
  /** A POST/PATCH (or other non-idempotent request) without an idempotency key. */
  | 'not-idempotent'
  /** The next backoff would have ended past the deadline, or the deadline passed. */
  | 'deadline'
  /** The server's Retry-After asks for a longer wait than `maxDelay`. */
  | 'retry-after-too-long'
  /** The shared retry budget refused the retry. */
  | 'budget-exhausted'
  /** The caller's signal aborted. */
  | 'aborted';

/** Passed to `onGiveUp` just before `retry()` rejects. */
export interface GiveUpEvent {
  /** Attempts made, including the first. */
  readonly attempts: number;
  /** What `retry()` rejects with: the last attempt's error, or the abort reason. */
  readonly error: unknown;
  readonly reason: GiveUpReason;
}

/** Exponential backoff: `initialDelayMs × factor^n` before retry `n + 1`, capped by `maxDelayMs`. */
export interface ExponentialBackoff {
  /** Nominal delay before the first retry, ms. Default `500`. */
  initialDelayMs?: number;
  /** @deprecated Renamed `initialDelayMs` (durations end in `Ms`); still accepted. */
  initialDelay?: number;
  /** Growth per retry. Default `2`. */
  factor?: number;
}

/** Options that may change from call to call of one {@link RetryPolicy}. */
export interface RetryCallOptions {
  /**
   * Cancels the whole operation: the running attempt's signal aborts, a backoff sleep ends at
   * once, and `retry()` rejects with `signal.reason`. With a policy that has its own signal,
   * either one aborting cancels. Default: none.
   */
  signal?: AbortSignal;
  /**
   * Overall budget for every attempt and every wait: milliseconds from the call (at most
   * 2³¹−1, about 24.8 days), or an absolute `Date`. Epoch milliseconds are refused with
   * `INVALID_OPTIONS` (`deadline: Date.now() + 30_000` is a mistake for
   * `deadline: new Date(Date.now() + 30_000)` or `deadline: 30_000`). Each attempt's signal aborts when the budget runs out (the attempt rejects with
   * `TIMEOUT`), and no backoff starts that would end past it: `retry()` rejects with the last
   * error instead. With a policy that has its own deadline, the earlier one applies.
   * Default: none.
   */
  deadline?: number | Date;
  /**
   * The HTTP request being made. A POST, PATCH or other non-idempotent method without an
   * idempotency key (`idempotencyKey` or an `Idempotency-Key` header) is never retried: its
   * first failure is final. A `Request` object can be passed as it is. Default: none (retried).
   */
  request?: RetryRequest;
}

/**
 * Options for `retry()` and `retryPolicy()`. Choose at most one schedule: `preset`, `delaysMs`
 * or `backoff`; with none, the `'mutation'` preset applies.
 */
export interface RetryOptions extends RetryCallOptions {
  /** A named schedule from {@link retryPresets}: `'mutation'` or `'read'`. Default `'mutation'`. */
  preset?: RetryPresetName;
  /** Explicit nominal delays in ms, one per retry (`[200, 400]`). Past the end, the last repeats. */
  delaysMs?: readonly number[];
  /** @deprecated Renamed `delaysMs` (durations end in `Ms`); still accepted. */
  delays?: readonly number[];
  /** Exponential backoff instead of a list. */
  backoff?: ExponentialBackoff;
  /** Retries after the first attempt. Default: the schedule's length (3), or 3 for `backoff`. */
  retries?: number;
  /**
   * The longest single wait, ms. Longer nominal delays are capped; a server's Retry-After
   * longer than this is not waited out: `retry()` gives up with that error, as ky does, since
   * retrying sooner than asked only earns another 429. Default `30_000`.
   */
  maxDelayMs?: number;
  /** @deprecated Renamed `maxDelayMs` (durations end in `Ms`); still accepted. */
  maxDelay?: number;
  /** How delays are randomised; see {@link JitterMode}. Default `'equal'`. */
  jitter?: JitterMode;
  /** Random source in `[0, 1)` for jitter. Default `Math.random`; tests pass a fixed one. */
  random?: () => number;
  /** Source of time for sleeps, timeouts and the deadline. Default `systemClock`. */
  clock?: Clock;
  /**
   * Per-attempt time limit, ms: the attempt's signal aborts and the attempt rejects with
   * `BallastError` `TIMEOUT` (retryable, so the next attempt follows). Default: none.
   */
  timeoutMs?: number;
  /** @deprecated Renamed `timeoutMs` (durations end in `Ms`); still accepted. */
  timeout?: number;
  /**
   * Your rules, consulted before the default {@link classifyError}; return `undefined` to
   * leave an error to the default. Default: `classifyError` alone.
   */
  classify?: ErrorClassifier;
  /** A budget shared with other calls (`createRetryBudget()`). Default: none (unlimited). */
  budget?: RetryBudget;
  /**
   * Listeners, by event: `retry` before each backoff sleep (an error thrown there rejects the
   * call with it), `giveUp` once just before `retry()` rejects, with the reason it stopped.
   * Default: none.
   */
  on?: Partial<RetryEvents>;
  /** @deprecated Use `on: { retry }`. */
  onRetry?: (event: RetryEvent) => void;
  /** @deprecated Use `on: { giveUp }`. */
  onGiveUp?: (event: GiveUpEvent) => void;
}

/** The events `retry()` emits, by name, with their listeners' types. */
export interface RetryEvents {
  /** Before each backoff sleep. */
  retry: (event: RetryEvent) => void;
  /** Once, just before `retry()` rejects. */
  giveUp: (event: GiveUpEvent) => void;
}

/** A `deadline` given as a number: milliseconds from the call, within the longest timer. */
export function isDeadlineMs(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && value <= 2_147_483_647;
}

/** A `RetryBudget`, checked by shape. */
export function isBudget(value: unknown): value is RetryBudget {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RetryBudget).tryRetry === 'function' &&
    typeof (value as RetryBudget).recordCall === 'function'
  );
}
