/**
 * `retry()`: run an operation again when it fails for a reason that may pass, waiting longer
 * each time, within a deadline, cancellable at any moment, and never repeating a write the
 * server cannot deduplicate.
 *
 * How it is built on p-retry (wrapped, not forked):
 * - The success path never enters p-retry. p-retry copies and validates its options on every
 *   call (several µs); most calls succeed first time, so the first attempt runs here, against
 *   a plan compiled once per preset name (or by a quick check of an options object), and only
 *   a failure starts p-retry's loop.
 * - p-retry then owns the loop: attempt numbering, counting retries, stopping when they run
 *   out. Its first "attempt" replays the failure already seen, so that failure goes through the
 *   same decision as every later one.
 * - p-retry sleeps with the real `setTimeout` and cannot take a `Clock`, so its own delay is
 *   set to zero (`minTimeout: 0`, which schedules no timer) and the wait happens in
 *   `shouldRetry`, on the injected clock, with the caller's signal: `shouldRetry` is the one
 *   hook p-retry calls only when a retry will really follow, after its own checks. The deadline
 *   is ours too (p-retry's `maxRetryTime` reads `performance.now()`).
 * - Failures travel through p-retry wrapped in `FailedAttempt`, because p-retry refuses to
 *   retry any `TypeError` that is not a network error and turns thrown non-errors into a new
 *   `TypeError`; with the wrapper the classifier sees, and the caller receives, exactly what
 *   the operation threw.
 */
import pRetry from 'p-retry';
import type { Clock } from '../clock/clock.js';
import { BallastError } from '../errors/ballast-error.js';
import { assertFunction } from '../options/parse-options.js';
import { LazyAbortSignal, type RunLimits, runAbortable } from '../timeout/abortable-run.js';
import { backoffDelay, type RetryPresetName } from './backoff-schedule.js';
import type { GiveUpReason, RetryCallOptions, RetryOptions } from './retry-options.js';
import { compileRetryOptions, type RetryPlan, withCallOptions } from './retry-plan.js';

/** What each attempt receives. */
export interface RetryAttempt {
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /**
   * Aborts when this attempt's `timeout` passes, the overall `deadline` passes or the caller's
   * `signal` aborts. Pass it to `fetch` or your driver so abandoned work really stops.
   */
  readonly signal: AbortSignal;
}

/** The operation `retry()` runs: called once per attempt. */
export type RetryableFunction<T> = (attempt: RetryAttempt) => T | PromiseLike<T>;

/**
 * A retry policy validated once and reused: call it like `retry()` without the options.
 * Per-call `signal`, `deadline` and `request` may still be given. `policy.execute(fn, call)` is
 * the same call, so the policy can be passed to `compose()` with the other policies.
 */
export interface RetryPolicy {
  <T>(fn: RetryableFunction<T>, call?: RetryCallOptions): Promise<T>;
  /** The same as calling the policy: the shape `compose()` and the other policies share. */
  execute<T>(fn: RetryableFunction<T>, call?: RetryCallOptions): Promise<T>;
}

class Attempt implements RetryAttempt {
  readonly attempt: number;
  readonly #scope: LazyAbortSignal;

  constructor(attempt: number, scope: LazyAbortSignal) {
    this.attempt = attempt;
    this.#scope = scope;
  }

  get signal(): AbortSignal {
    return this.#scope.signal;
  }
}

/** Carries an attempt's failure through p-retry untouched (see the header). */
class FailedAttempt extends Error {
  readonly failure: unknown;

  constructor(failure: unknown) {
    super('retry attempt failed');
    this.failure = failure;
  }
}

/** The absolute deadline of a call starting now, or undefined when there is none. */
function deadlineOf(plan: RetryPlan): number | undefined {
  let earliest: number | undefined;
  for (const deadline of plan.deadlines) {
    const at = deadline instanceof Date ? deadline.getTime() : plan.clock.now() + deadline;
    if (earliest === undefined || at < earliest) earliest = at;
  }
  return earliest;
}

/** The limits of one attempt: its timeout, or what is left of the deadline if that is sooner. */
class AttemptLimits implements RunLimits {
  readonly clock: Clock;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
  readonly #attempt: number;
  readonly #attemptTimeout: number;
  readonly #deadlineFirst: boolean;

  constructor(plan: RetryPlan, attempt: number, deadlineAt: number | undefined) {
    this.clock = plan.clock;
    this.signal = plan.signal;
    const remaining =
      deadlineAt === undefined ? Number.POSITIVE_INFINITY : deadlineAt - plan.clock.now();
    this.#deadlineFirst = remaining <= plan.timeout;
    this.timeoutMs = Math.min(plan.timeout, remaining);
    this.#attempt = attempt;
    this.#attemptTimeout = plan.timeout;
  }

  timeoutError(): BallastError {
    const attempt = this.#attempt;
    if (this.#deadlineFirst) {
      return new BallastError('TIMEOUT', {
        message: `The retry deadline passed during attempt ${attempt}`,
        details: { attempt, deadline: true },
      });
    }
    return new BallastError('TIMEOUT', {
      message: `Attempt ${attempt} timed out after ${this.#attemptTimeout} ms`,
      details: { attempt, timeoutMs: this.#attemptTimeout },
    });
  }
}

/** One attempt, under its timeout, the remaining deadline and the caller's signal. */
function runAttempt<T>(
  plan: RetryPlan,
  fn: RetryableFunction<T>,
  number: number,
  deadlineAt: number | undefined,
): Promise<T> {
  const scope = new LazyAbortSignal();
  const attempt = new Attempt(number, scope);
  return runAbortable(scope, () => fn(attempt), new AttemptLimits(plan, number, deadlineAt));
}

/** The success path of a plan with no timeout, deadline or signal: no timer, no listener. */
async function runPlain<T>(plan: RetryPlan, fn: RetryableFunction<T>): Promise<T> {
  try {
    return await fn(new Attempt(1, new LazyAbortSignal()));
  } catch (error) {
    return retryAfterFailure(plan, fn, error, undefined);
  }
}

async function runGuarded<T>(plan: RetryPlan, fn: RetryableFunction<T>): Promise<T> {
  const deadlineAt = deadlineOf(plan);
  try {
    return await runAttempt(plan, fn, 1, deadlineAt);
  } catch (error) {
    return retryAfterFailure(plan, fn, error, deadlineAt);
  }
}

/** The slow path: p-retry's loop, entered after the first attempt failed. */
async function retryAfterFailure<T>(
  plan: RetryPlan,
  fn: RetryableFunction<T>,
  firstError: unknown,
  deadlineAt: number | undefined,
): Promise<T> {
  const { clock, signal } = plan;
  let attempts = 1;
  let stopped: GiveUpReason | undefined;
  const giveUp = (error: unknown, reason: GiveUpReason): unknown => {
    plan.onGiveUp?.({ attempts, error, reason });
    return error;
  };
  if (signal?.aborted) throw giveUp(signal.reason, 'aborted');
  if (!plan.retrySafe) throw giveUp(firstError, 'not-idempotent');
  if (plan.retries === 0) throw giveUp(firstError, 'retries-exhausted');

  try {
    return await pRetry(
      async (attemptNumber) => {
        if (attemptNumber === 1) throw new FailedAttempt(firstError);
        attempts = attemptNumber;
        try {
          return await runAttempt(plan, fn, attemptNumber, deadlineAt);
        } catch (error) {
          throw new FailedAttempt(error);
        }
      },
      {
        retries: plan.retries,
        minTimeout: 0,
        signal,
        shouldRetry: async ({ error, attemptNumber, retriesConsumed }) => {
          if (signal?.aborted) throw signal.reason;
          const failure = (error as FailedAttempt).failure;
          const now = clock.now();
          const verdict = plan.classify(failure, { attempt: attemptNumber, now }) ?? 'fail';
          if (verdict === 'fail') {
            stopped = 'not-retryable';
            return false;
          }
          let delay = backoffDelay(plan.schedule, retriesConsumed);
          if (typeof verdict === 'object') {
            if (verdict.retryAfterMs > plan.maxDelay) {
              stopped = 'retry-after-too-long';
              return false;
            }
            delay = Math.max(delay, Math.ceil(verdict.retryAfterMs));
          }
          if (deadlineAt !== undefined && now + delay >= deadlineAt) {
            stopped = 'deadline';
            return false;
          }
          // Asked last, so a retry that would not happen anyway does not spend the budget.
          if (plan.budget && !plan.budget.tryRetry()) {
            stopped = 'budget-exhausted';
            return false;
          }
          plan.onRetry?.({ attempt: attemptNumber, error: failure, delay });
          if (delay > 0) await clock.sleep(delay, signal);
          return true;
        },
      },
    );
  } catch (error) {
    // An abort wins over whatever the interrupted attempt or sleep reported.
    if (signal?.aborted) throw giveUp(signal.reason, 'aborted');
    if (error instanceof FailedAttempt) throw giveUp(error.failure, stopped ?? 'retries-exhausted');
    throw error;
  }
}

function execute<T>(plan: RetryPlan, fn: RetryableFunction<T>, where: string): Promise<T> {
  try {
    assertFunction(fn, where);
  } catch (error) {
    return Promise.reject(error);
  }
  plan.budget?.recordCall();
  return plan.guarded ? runGuarded(plan, fn) : runPlain(plan, fn);
}

/**
 * Runs `fn`, and runs it again when it fails for a reason that may pass.
 *
 * - Schedule: a preset name (`'mutation'`: 500, 1000, 2000 ms; `'read'`: 1, 2, 4 s; 3 retries
 *   each), explicit `delays`, or exponential `backoff`; `'equal'` jitter by default.
 * - Which errors: {@link classifyError} (network errors, timeouts, 408/429/5xx, retryable
 *   `BallastError`s) unless `classify` says otherwise; `Retry-After` is honoured.
 * - Never retries a POST/PATCH `request` without an idempotency key.
 * - Resolves with the first successful result. Rejects with the last attempt's error, unchanged
 *   (`onGiveUp` says why it stopped and after how many attempts), or at once with
 *   `signal.reason` when the caller aborts, even in the middle of a backoff sleep.
 * - Bad options reject with `INVALID_OPTIONS` naming the field.
 *
 * A preset name is validated once per process and an options object on every call (by a quick
 * check that costs tens of nanoseconds); {@link retryPolicy} validates once and is the
 * fastest form for a hot path.
 *
 * @example
 * ```ts
 * const invoice = await retry(
 *   ({ signal }) => fetchJson(`/invoices/${id}`, { signal }),
 *   { preset: 'read', timeout: 10_000, deadline: 30_000, signal },
 * );
 * ```
 */
export function retry<T>(
  fn: RetryableFunction<T>,
  options?: RetryOptions | RetryPresetName,
): Promise<T> {
  let plan: RetryPlan;
  try {
    plan = compileRetryOptions(options, 'retry()');
  } catch (error) {
    return Promise.reject(error);
  }
  return execute(plan, fn, 'retry()');
}

/**
 * Validates `options` once and returns a reusable {@link RetryPolicy}: the fastest way to retry
 * on a hot path. Throws `INVALID_OPTIONS` at once for bad options.
 *
 * @example
 * ```ts
 * const retryRead = retryPolicy({ preset: 'read', timeout: 10_000, budget });
 * const user = await retryRead(({ signal }) => loadUser(id, signal), { signal: request.signal });
 * ```
 */
export function retryPolicy(options?: RetryOptions | RetryPresetName): RetryPolicy {
  const plan = compileRetryOptions(options, 'retryPolicy()');
  const policy = <T>(fn: RetryableFunction<T>, call?: RetryCallOptions): Promise<T> => {
    if (call === undefined) return execute(plan, fn, 'retryPolicy()');
    let effective: RetryPlan;
    try {
      effective = withCallOptions(plan, call, 'retryPolicy()');
    } catch (error) {
      return Promise.reject(error);
    }
    return execute(effective, fn, 'retryPolicy()');
  };
  policy.execute = policy;
  return policy;
}
