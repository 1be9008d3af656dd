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
  #timeoutMs = Infinity;
  #deadlineFirst = false;

  constructor(attempt: number, fn: RetryableFunction<T>) {
    super();
    this.attempt = attempt;
    this.#fn = fn;
  }

  /** Runs the operation under the plan's timeout, `deadlineAt` (epoch ms) and `signal`. */
  guarded(plan: RetryPlan, signal: AbortSignal | undefined, deadlineAt?: number): Promise<T> {
    const remaining = deadlineAt === undefined ? Infinity : deadlineAt - plan.clock.now();
    this.#deadlineFirst = remaining <= plan.timeout;
    this.#timeoutMs = plan.timeout;
    return this.run(plan.clock, Math.min(plan.timeout, remaining), signal);
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
    const deadline = this.#deadlineFirst;
    return new CodedError(
      'TIMEOUT',
      {
        message: deadline
          ? `The retry deadline passed during attempt ${attempt}`
          : `Attempt ${attempt} timed out after ${timeoutMs} ms`,
        details: deadline ? { attempt, deadline } : { attempt, timeoutMs },
      },
      timeoutEntry,
    );
  }
}
