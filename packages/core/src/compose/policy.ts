/**
 * The one shape every resilience policy shares, so that policies compose: `execute(fn, { signal })`
 * runs `fn` under the policy and hands it a context whose `signal` aborts when the policy (or
 * anything outside it) gives up on the call. A circuit breaker, a bulkhead, a retry policy, a
 * timeout and a composed policy all have it.
 */

/** What a policy hands the function it runs. */
export interface PolicyContext {
  /**
   * Aborts when the call is abandoned: the caller's signal aborted, a timeout or deadline
   * passed. Pass it to `fetch` or your driver so abandoned work really stops.
   */
  readonly signal: AbortSignal;
}

/** Options for one {@link Policy.execute} call. */
export interface PolicyExecuteOptions {
  /** The caller's signal: aborting it cancels the call at whatever stage it is. Default: none. */
  signal?: AbortSignal;
}

/**
 * A resilience policy. `fn` may ignore its context; a policy that controls no signal of its own
 * (a circuit breaker, a bulkhead) passes on the caller's.
 */
export interface Policy {
  execute<T>(
    fn: (context: PolicyContext) => T | PromiseLike<T>,
    options?: PolicyExecuteOptions,
  ): Promise<T>;
}

/** A signal that never aborts, for a call made without one. */
let neverAborts: AbortSignal | undefined;

/** The context for `fn` when the policy passes the caller's signal on (or none was given). */
export function policyContext(signal: AbortSignal | undefined): PolicyContext {
  if (signal !== undefined) return { signal };
  neverAborts ??= new AbortController().signal;
  return { signal: neverAborts };
}
