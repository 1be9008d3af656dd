/**
 * `retry()`: run an operation again when it fails for a reason that may pass, waiting longer
 * each time, within a deadline, cancellable at any moment, and never repeating a write the
 * server cannot deduplicate.
 *
 * The loop is Ballast's own (it used to wrap p-retry). Everything that decides, the classifier,
 * the schedule, the injected clock's sleeps, the deadline, the budget, was already ours; p-retry
 * only counted attempts, and reaching it needed a wrapper per failure, a replay of the first
 * failure and a zero delay so that its own timer never ran, for about 1 kB of a browser bundle.
 *
 * The success path is the hot path: most calls succeed first time, so the first attempt runs
 * against a plan compiled once (per preset name, policy, or distinct inline options object)
 * and allocates nothing it does not need; the loop starts only after a failure.
 */
import { assertFunction } from '../options/parse-options.js';
import { Attempt, type RetryableFunction } from './attempt.js';
import { backoffDelay, type RetryPresetName } from './backoff-schedule.js';
import type { GiveUpReason, RetryCallOptions, RetryOptions } from './retry-options.js';
import { type CallScope, compileRetryCall, type RetryPlan, withCallOptions } from './retry-plan.js';

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

/** The absolute deadline of a call starting now, or undefined when there is none. */
function deadlineOf(plan: RetryPlan, scope: CallScope): number | undefined {
  let earliest: number | undefined;
  for (const deadline of scope.deadlines) {
    const at = deadline instanceof Date ? deadline.getTime() : plan.clock.now() + deadline;
    if (earliest === undefined || at < earliest) earliest = at;
  }
  return earliest;
}

/**
 * Runs a call whose options and function were checked. The first attempt is the hot path: most
 * calls succeed first time. This function is kept apart from the loop and small, because a
 * suspended async function keeps its whole frame for every call in flight.
 */
async function execute<T>(plan: RetryPlan, fn: RetryableFunction<T>, scope: CallScope): Promise<T> {
  plan.budget?.recordCall();
  const deadlineAt = deadlineOf(plan, scope);
  try {
    return await new Attempt(1, fn).guarded(plan, scope.signal, deadlineAt);
  } catch (error) {
    return retryAfterFailure(plan, fn, scope, error, deadlineAt);
  }
}

/**
 * Why to stop after a failed attempt, or the delay before the next one. Asked in order: retries
 * left, the classifier, Retry-After against `maxDelay`, the deadline, and the budget last, so a
 * retry that would not happen anyway does not spend it.
 */
function nextDelay(
  plan: RetryPlan,
  error: unknown,
  attempts: number,
  deadlineAt: number | undefined,
): number | GiveUpReason {
  if (attempts > plan.retries) return 'retries-exhausted';
  const now = plan.clock.now();
  const verdict = plan.classify(error, { attempt: attempts, now }) ?? 'fail';
  if (verdict === 'fail') return 'not-retryable';
  let delay = backoffDelay(plan, attempts - 1);
  if (typeof verdict === 'object') {
    if (verdict.retryAfterMs > plan.maxDelay) return 'retry-after-too-long';
    delay = Math.max(delay, Math.ceil(verdict.retryAfterMs));
  }
  if (deadlineAt !== undefined && now + delay >= deadlineAt) return 'deadline';
  if (plan.budget && !plan.budget.tryRetry()) return 'budget-exhausted';
  return delay;
}

/** The slow path, entered after the first attempt failed. */
async function retryAfterFailure<T>(
  plan: RetryPlan,
  fn: RetryableFunction<T>,
  scope: CallScope,
  firstError: unknown,
  deadlineAt: number | undefined,
): Promise<T> {
  const { signal } = scope;
  let error = firstError;
  for (let attempts = 1; ; attempts++) {
    // An abort wins over whatever the interrupted attempt or sleep reported. Whether the
    // request may be repeated is asked on every turn, but only the first can find it.
    let delay: number | GiveUpReason = signal?.aborted
      ? 'aborted'
      : scope.retrySafe
        ? nextDelay(plan, error, attempts, deadlineAt)
        : 'not-idempotent';
    if (typeof delay === 'number') {
      // A listener that throws rejects the call with its error, as the docs promise.
      plan.onRetry?.({ attempt: attempts, error, delayMs: delay, delay });
      if (delay > 0) {
        try {
          await plan.clock.sleep(delay, signal);
        } catch (sleepError) {
          if (!signal?.aborted) throw sleepError;
        }
        if (signal?.aborted) delay = 'aborted';
      }
    }
    if (typeof delay === 'string') {
      if (delay === 'aborted') error = signal?.reason;
      plan.onGiveUp?.({ attempts, error, reason: delay });
      throw error;
    }
    try {
      return await new Attempt(attempts + 1, fn).guarded(plan, signal, deadlineAt);
    } catch (attemptError) {
      error = attemptError;
    }
  }
}

/**
 * Runs `fn`, and runs it again when it fails for a reason that may pass.
 *
 * - Schedule: a preset name (`'mutation'`: 500, 1000, 2000 ms; `'read'`: 1, 2, 4 s; 3 retries
 *   each), explicit `delaysMs`, or exponential `backoff`; `'equal'` jitter by default.
 * - Which errors: {@link classifyError} (network errors, timeouts, 408/429/5xx, retryable
 *   `BallastError`s) unless `classify` says otherwise; `Retry-After` is honoured.
 * - Never retries a POST/PATCH `request` without an idempotency key.
 * - Resolves with the first successful result. Rejects with the last attempt's error, unchanged
 *   (`onGiveUp` says why it stopped and after how many attempts), or at once with
 *   `signal.reason` when the caller aborts, even in the middle of a backoff sleep.
 * - Bad options reject with `INVALID_OPTIONS` naming the field.
 *
 * A preset name is validated once per process, and an options object once per distinct set of
 * values (a later call with the same values, signal, deadline and request aside, reuses the
 * result); {@link retryPolicy} validates once and is the fastest form for a hot path.
 *
 * @example
 * ```ts
 * const invoice = await retry(
 *   ({ signal }) => fetchJson(`/invoices/${id}`, { signal }),
 *   { preset: 'read', timeoutMs: 10_000, deadline: 30_000, signal },
 * );
 * ```
 */
export function retry<T>(
  fn: RetryableFunction<T>,
  options?: RetryOptions | RetryPresetName,
): Promise<T> {
  let plan: RetryPlan;
  let scope: CallScope;
  try {
    ({ plan, scope } = compileRetryCall(options, 'retry()'));
    assertFunction(fn, 'retry()');
  } catch (error) {
    return Promise.reject(error);
  }
  return execute(plan, fn, scope);
}

/**
 * Validates `options` once and returns a reusable {@link RetryPolicy}: the fastest way to retry
 * on a hot path. Throws `INVALID_OPTIONS` at once for bad options.
 *
 * @example
 * ```ts
 * const retryRead = retryPolicy({ preset: 'read', timeoutMs: 10_000, budget });
 * const user = await retryRead(({ signal }) => loadUser(id, signal), { signal: request.signal });
 * ```
 */
export function retryPolicy(options?: RetryOptions | RetryPresetName): RetryPolicy {
  const { plan, scope } = compileRetryCall(options, 'retryPolicy()');
  const policy = <T>(fn: RetryableFunction<T>, call?: RetryCallOptions): Promise<T> => {
    let effective = scope;
    try {
      if (call !== undefined) effective = withCallOptions(scope, call, 'retryPolicy()');
      assertFunction(fn, 'retryPolicy()');
    } catch (error) {
      return Promise.reject(error);
    }
    return execute(plan, fn, effective);
  };
  policy.execute = policy;
  return policy;
}
