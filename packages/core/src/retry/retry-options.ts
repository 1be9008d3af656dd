/**
 * `retry()`'s options: what each one means and its default (the TSDoc users read), and the
 * schema that is the authority on what is valid and how a bad option is reported.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { type JitterMode, type RetryPresetName, retryPresets } from './backoff-schedule.js';
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

const delaySchema = v.durationMs();

const headersSchema = v.custom<NonNullable<RetryRequest['headers']>>(
  (value) => typeof value === 'object' && value !== null,
  'Headers, a header record or [name, value] pairs',
);

// Read by shape, not strict: a `Request` may be passed as it is.
const requestSchema = v.object(
  {
    method: v.string({ minLength: 1 }),
    idempotencyKey: v.optional(v.string()),
    headers: v.optional(headersSchema),
  },
  { unknownKeys: 'strip' },
);

// A number is a duration from the call. Epoch milliseconds (`Date.now() + 30_000`, about 1.7e12)
// are far above the longest timer, so that mistake is refused instead of timing out at once.
const deadlineSchema = v.union(
  v.date(),
  v.custom<number>(
    isDeadlineMs,
    'ms from now (0 < ms ≤ 2147483647); pass a Date for an absolute time',
  ),
);

const callShape = {
  signal: v.optional(v.abortSignal()),
  deadline: v.optional(deadlineSchema),
  request: v.optional(requestSchema),
};

const callSchema = v.object(callShape);

/** New name → deprecated name; `on.retry`/`on.giveUp` replace `onRetry`/`onGiveUp`. */
const renamed = [
  ['timeoutMs', 'timeout'],
  ['maxDelayMs', 'maxDelay'],
  ['delaysMs', 'delays'],
] as const;

const checkedOptionsSchema = v.refine(
  v.object({
    ...callShape,
    preset: v.optional(v.literal(...(Object.keys(retryPresets) as [RetryPresetName]))),
    delaysMs: v.optional(v.array(delaySchema, { minLength: 1 })),
    delays: v.optional(v.array(delaySchema, { minLength: 1 })),
    backoff: v.optional(
      v.object({
        initialDelayMs: v.optional(delaySchema),
        initialDelay: v.optional(delaySchema),
        factor: v.optional(v.number({ min: 1, max: 100 }), 2),
      }),
    ),
    retries: v.optional(v.number({ integer: true, min: 0, max: 1_000 })),
    maxDelayMs: v.optional(delaySchema),
    maxDelay: v.optional(delaySchema),
    jitter: v.optional(v.literal('equal', 'full', 'none'), 'equal'),
    random: v.optional(v.func<() => number>('a function returning a number in [0, 1)')),
    clock: v.optional(v.clock(), systemClock),
    timeoutMs: v.optional(v.number({ greaterThan: 0 })),
    timeout: v.optional(v.number({ greaterThan: 0 })),
    classify: v.optional(v.func<ErrorClassifier>('a classifier function')),
    budget: v.optional(v.custom<RetryBudget>(isBudget, 'a RetryBudget from createRetryBudget()')),
    on: v.optional(
      v.object({
        retry: v.optional(v.func<RetryEvents['retry']>()),
        giveUp: v.optional(v.func<RetryEvents['giveUp']>()),
      }),
    ),
    onRetry: v.optional(v.func<(event: RetryEvent) => void>()),
    onGiveUp: v.optional(v.func<(event: GiveUpEvent) => void>()),
  }),
  (options) => {
    for (const [key, old] of renamed) {
      if (options[key] !== undefined && options[old] !== undefined) {
        return { path: [old], message: `use ${key} alone (${old} is its deprecated name)` };
      }
    }
    if (
      options.backoff?.initialDelayMs !== undefined &&
      options.backoff.initialDelay !== undefined
    ) {
      return {
        path: ['backoff', 'initialDelay'],
        message: 'use initialDelayMs alone (initialDelay is its deprecated name)',
      };
    }
    if (options.on?.retry !== undefined && options.onRetry !== undefined) {
      return { path: ['onRetry'], message: 'use on.retry alone (onRetry is its deprecated name)' };
    }
    if (options.on?.giveUp !== undefined && options.onGiveUp !== undefined) {
      return {
        path: ['onGiveUp'],
        message: 'use on.giveUp alone (onGiveUp is its deprecated name)',
      };
    }
    const chosen = (['preset', 'delaysMs', 'delays', 'backoff'] as const).filter(
      (key) => options[key] !== undefined,
    );
    return chosen.length > 1
      ? { path: [chosen[1] ?? 'delaysMs'], message: `choose one schedule: ${chosen.join(' or ')}` }
      : undefined;
  },
);

type CheckedRetryOptions = v.Infer<typeof checkedOptionsSchema>;

/**
 * Retry options as validated, defaults applied and the current names and the deprecated ones
 * folded into one field each: `timeout`, `maxDelay`, `delays` and `backoff.initialDelay` hold
 * `timeoutMs`, `maxDelayMs`, `delaysMs` and `backoff.initialDelayMs`; `onRetry`/`onGiveUp` hold
 * `on`'s.
 */
export type ParsedRetryOptions = Omit<
  CheckedRetryOptions,
  'timeoutMs' | 'maxDelayMs' | 'maxDelay' | 'on' | 'backoff' | 'delaysMs'
> & { maxDelay: number; backoff?: { initialDelay: number; factor: number } };

/** Folds the current names and the deprecated ones into one shape (see {@link ParsedRetryOptions}). */
export function foldRetryNames(options: CheckedRetryOptions): ParsedRetryOptions {
  const { timeoutMs, maxDelayMs, maxDelay, on, backoff, delaysMs, ...rest } = options;
  return {
    ...rest,
    delays: delaysMs ?? options.delays,
    ...(backoff === undefined
      ? {}
      : {
          backoff: {
            initialDelay: backoff.initialDelayMs ?? backoff.initialDelay ?? 500,
            factor: backoff.factor,
          },
        }),
    maxDelay: maxDelayMs ?? maxDelay ?? 30_000,
    timeout: timeoutMs ?? options.timeout,
    onRetry: on?.retry ?? options.onRetry,
    onGiveUp: on?.giveUp ?? options.onGiveUp,
  };
}

const optionsSchema = v.transform(checkedOptionsSchema, foldRetryNames);

/** Call options as validated. */
export type ParsedCallOptions = v.Infer<typeof callSchema>;

/** Options checked by the schema: the authority, and the source of every `INVALID_OPTIONS` message. */
export function strictRetryOptions(input: unknown, where: string): ParsedRetryOptions {
  return parseOptions(optionsSchema, input, where);
}

/** Call options checked by the schema. */
export function strictCallOptions(input: unknown, where: string): ParsedCallOptions {
  return parseOptions(callSchema, input, where);
}
