/**
 * One attempt of `retry()`: the `{ attempt, signal }` the operation receives, and the run that
 * bounds it by the attempt's timeout, what is left of the deadline and the caller's signal. One
 * object per attempt, since a guarded attempt is on the hot path of every call with a signal.
 */
import type { BallastError } from '../errors/ballast-error.js';
import { CodedError } from '../errors/coded-error.js';
import { timeoutEntry } from '../errors/core-error-codes.js';
import { AbortableRun } from '../timeout/abortable-run.js';
import type { RetryPlan } from './retry-plan.js';

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

export class Attempt<T> extends AbortableRun<T> implements RetryAttempt {
  // Declared, not defined: the constructor assigns it, and a class field would only add its name
  // to every bundle once more (issue 13).
  declare readonly attempt: number;
  readonly #fn: RetryableFunction<T>;
  #timeoutMs!: number;
  #deadlineFirst!: boolean;

  constructor(attempt: number, fn: RetryableFunction<T>) {
    super();
    this.attempt = attempt;
    this.#fn = fn;
  }

  /** Runs the operation under the plan's timeout, `deadlineAt` (epoch ms) and `signal`. */
  guarded(
    plan: RetryPlan,
    signal: AbortSignal | undefined,
    deadlineAt?: number,
  ): T | PromiseLike<T> {
    const { timeout } = plan;
    const remaining = deadlineAt === undefined ? Infinity : deadlineAt - plan.clock.now();
    const limit = Math.min(timeout, remaining);
    // Nothing to guard against: the operation is called directly, with no timer and no listener.
    if (signal === undefined && limit === Infinity) return this.work();
    this.#deadlineFirst = remaining <= timeout;
    this.#timeoutMs = timeout;
    return this.run(plan.clock, limit, signal);
  }

  /**
   * Calls the operation: under {@link Attempt.guarded}'s limits, or called directly, unguarded,
   * for a call with no timeout, deadline or signal.
   */
  work(): T | PromiseLike<T> {
    return this.#fn(this);
  }

  protected timeoutError(): BallastError {
    const { attempt } = this;
    const timeoutMs = this.#timeoutMs;
    return new CodedError(
      'TIMEOUT',
      this.#deadlineFirst
        ? {
            message: `The retry deadline passed during attempt ${attempt}`,
            details: { attempt, deadline: true },
          }
        : {
            message: `Attempt ${attempt} timed out after ${timeoutMs} ms`,
            details: { attempt, timeoutMs },
          },
      timeoutEntry,
    );
  }
}
