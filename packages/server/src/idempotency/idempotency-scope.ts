/**
 * The rule for an idempotency scope's value: a string of 1–255 characters every store keeps as
 * given (no NUL, no unpaired surrogate: see `isStorableText`). The scope usually comes from the
 * request (a tenant header, a claim in a token), so a value that breaks the rule is the client's
 * error — 400 `VALIDATION_FAILED` naming the field and the reason — never a 500 "misconfigured".
 * The guard behind every idempotency middleware, `withIdempotency()` and the engine itself
 * answer it alike.
 */
import { idempotencyScopeError } from '@ballast/core/adapter-kit';

// The rule itself lives in core, where the idempotency engine applies it too; re-exported for
// this package's guard.
export { idempotencyScopeError };

/**
 * Returns `scope` when it is a string of 1–255 characters every store keeps; otherwise throws
 * 400 `VALIDATION_FAILED` (`details.field: 'scope'`, `details.reason`: `'not-a-string'`,
 * `'empty'`, `'too-long'` or `'invalid-characters'`), the answer the idempotency middleware
 * gives for the same value.
 *
 * @example
 * ```ts
 * const scope = checkIdempotencyScope(request.headers.get('x-tenant-id') ?? 'global');
 * ```
 */
export function checkIdempotencyScope(scope: unknown): string {
  const error = idempotencyScopeError(scope);
  if (error !== undefined) throw error;
  return scope as string;
}
