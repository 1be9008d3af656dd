/**
 * `compose()`: several policies as one, each wrapping the next, with one signal threaded through.
 *
 * Why a variadic function rather than a builder (`policy().retry().timeout()`): the policies
 * already exist as values (a breaker and a bulkhead are shared per dependency, so they must be
 * created once and passed in), the order is visible at the call site, and it is the shape
 * cockatiel users know from `wrap()`. A builder would have to re-create or look up the shared
 * ones, and would fix an order that some callers need otherwise (a breaker outside the bulkhead,
 * so a full queue does not count as a failure, or the other way round).
 *
 * The signal: each policy passes on the signal it controls (retry: the attempt's, which aborts
 * at the attempt timeout or deadline; timeout: its own), and a policy that has none (breaker,
 * bulkhead) passes on the one it received, so the function at the centre always gets the
 * nearest signal that may abort, and aborting the caller's signal cancels every layer.
 */
import { assertFunction, parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import {
  type Policy,
  type PolicyContext,
  type PolicyExecuteOptions,
  policyContext,
} from './policy.js';

const policiesSchema = v.array(
  v.methods<Policy>(
    ['execute'],
    'a policy (createBulkhead, createCircuitBreaker, retryPolicy, createTimeout, compose)',
  ),
  { minLength: 1 },
);
const executeSchema = v.object({ signal: v.optional(v.abortSignal()) });

/**
 * Composes policies, the first outermost: `compose(bulkhead, breaker, retry, timeout)` queues
 * for a bulkhead slot, then asks the breaker, then retries, each attempt under the timeout.
 * That order is the one to start from: the bulkhead bounds the whole call including its
 * retries; the breaker sees one outcome per call, not per attempt, and fails fast while open;
 * the timeout limits each attempt, so a hung attempt is retried. Returns a {@link Policy}, so a
 * composition can be composed again.
 *
 * @example
 * ```ts
 * // cockatiel: wrap(bulkhead, breaker, retry, timeout).execute(({ signal }) => fetch(url, { signal }))
 * const resilient = compose(
 *   createBulkhead({ maxConcurrent: 10, maxQueued: 50 }),
 *   createCircuitBreaker({ consecutiveFailures: 5, halfOpenAfter: 10_000 }),
 *   retryPolicy({ preset: 'read' }),
 *   createTimeout({ timeoutMs: 2_000 }),
 * );
 * const response = await resilient.execute(({ signal }) => fetch(url, { signal }), {
 *   signal: request.signal,
 * });
 * ```
 */
export function compose(...policies: Policy[]): Policy {
  const layers = parseOptions(policiesSchema, policies, 'compose()');
  return {
    execute<T>(
      fn: (context: PolicyContext) => T | PromiseLike<T>,
      options?: PolicyExecuteOptions,
    ): Promise<T> {
      try {
        assertFunction(fn, 'compose().execute()');
        if (options !== undefined) parseOptions(executeSchema, options, 'compose().execute()');
      } catch (error) {
        return Promise.reject(error);
      }
      const run = (index: number, signal: AbortSignal | undefined): Promise<T> => {
        const layer = layers[index];
        if (layer === undefined) {
          // Called inside an async layer, so a synchronous throw becomes a rejection there.
          return Promise.resolve(fn(policyContext(signal)));
        }
        return layer.execute(
          (context?: PolicyContext) => run(index + 1, context?.signal ?? signal),
          signal === undefined ? undefined : { signal },
        );
      };
      return run(0, options?.signal);
    },
  };
}
