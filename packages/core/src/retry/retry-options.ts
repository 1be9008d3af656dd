/**
 * `retry()`'s options: what each one means and its default (the TSDoc users read), and the zod
 * schema that is the authority on what is valid and how a bad option is reported.
 */
import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { abortSignalSchema, clockSchema, functionSchema } from '../options/option-schemas.js';
import { parseOptions } from '../options/parse-options.js';
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

/** Exponential backoff: `initialDelay × factor^n` before retry `n + 1`, capped by `maxDelay`. */
export interface ExponentialBackoff {
  /** Nominal delay before the first retry, ms. Default `500`. */
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
   * Overall budget for every attempt and every wait: milliseconds from the call, or an absolute
   * `Date`. Each attempt's signal aborts when the budget runs out (the attempt rejects with
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
 * Options for `retry()` and `retryPolicy()`. Choose at most one schedule: `preset`, `delays`
 * or `backoff`; with none, the `'mutation'` preset applies.
 */
export interface RetryOptions extends RetryCallOptions {
  /** A named schedule from {@link retryPresets}: `'mutation'` or `'read'`. Default `'mutation'`. */
  preset?: RetryPresetName;
  /** Explicit nominal delays in ms, one per retry (`[200, 400]`). Past the end, the last repeats. */
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
  timeout?: number;
  /**
   * Your rules, consulted before the default {@link classifyError}; return `undefined` to
   * leave an error to the default. Default: `classifyError` alone.
   */
  classify?: ErrorClassifier;
  /** A budget shared with other calls (`createRetryBudget()`). Default: none (unlimited). */
  budget?: RetryBudget;
  /** Called before each backoff sleep. An error thrown here rejects the call with it. */
  onRetry?: (event: RetryEvent) => void;
  /** Called once just before `retry()` rejects, with the reason it stopped. */
  onGiveUp?: (event: GiveUpEvent) => void;
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

const delaySchema = z.number().nonnegative().max(2_147_483_647);

const headersSchema = z.custom<NonNullable<RetryRequest['headers']>>(
  (value) => typeof value === 'object' && value !== null,
  { message: 'expected Headers, a header record or [name, value] pairs' },
);

const requestSchema = z.object({
  method: z.string().min(1),
  idempotencyKey: z.string().optional(),
  headers: headersSchema.optional(),
});

const deadlineSchema = z.union([
  z.number().positive(),
  z.date().refine((d) => !Number.isNaN(d.getTime()), 'invalid date'),
]);

const callShape = {
  signal: abortSignalSchema.optional(),
  deadline: deadlineSchema.optional(),
  request: requestSchema.optional(),
};

const callSchema = z.strictObject(callShape);

const optionsSchema = z
  .strictObject({
    ...callShape,
    preset: z.enum(Object.keys(retryPresets) as [RetryPresetName, ...RetryPresetName[]]).optional(),
    delays: z.array(delaySchema).min(1).optional(),
    backoff: z
      .strictObject({
        initialDelay: delaySchema.default(500),
        factor: z.number().min(1).max(100).default(2),
      })
      .optional(),
    retries: z.number().int().nonnegative().max(1_000).optional(),
    maxDelay: delaySchema.default(30_000),
    jitter: z.enum(['equal', 'full', 'none']).default('equal'),
    random: functionSchema<() => number>('a function returning a number in [0, 1)').optional(),
    clock: clockSchema.default(systemClock),
    timeout: z.number().positive().optional(),
    classify: functionSchema<ErrorClassifier>('a classifier function').optional(),
    budget: z
      .custom<RetryBudget>(isBudget, { message: 'expected a RetryBudget from createRetryBudget()' })
      .optional(),
    onRetry: functionSchema<(event: RetryEvent) => void>('a function').optional(),
    onGiveUp: functionSchema<(event: GiveUpEvent) => void>('a function').optional(),
  })
  .superRefine((options, context) => {
    const chosen = (['preset', 'delays', 'backoff'] as const).filter(
      (key) => options[key] !== undefined,
    );
    if (chosen.length > 1) {
      context.addIssue({
        code: 'custom',
        path: [chosen[1] ?? 'delays'],
        message: `choose one schedule: ${chosen.join(' or ')}`,
      });
    }
  });

/** Retry options as zod returns them: validated, defaults applied. */
export type ParsedRetryOptions = z.output<typeof optionsSchema>;
/** Call options as zod returns them. */
export type ParsedCallOptions = z.output<typeof callSchema>;

/** Options parsed by zod: the authority, and the source of every `INVALID_OPTIONS` message. */
export function strictRetryOptions(input: unknown, where: string): ParsedRetryOptions {
  return parseOptions(optionsSchema, input, where);
}

/** Call options parsed by zod. */
export function strictCallOptions(input: unknown, where: string): ParsedCallOptions {
  return parseOptions(callSchema, input, where);
}
