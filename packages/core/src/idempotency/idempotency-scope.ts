/**
 * The rule for an idempotency scope's value: a string of 1–255 characters every store keeps as
 * given (no NUL, no unpaired surrogate: see `isStorableText`). The scope usually comes from the
 * request (a tenant header, a claim in a token), so a value that breaks the rule is the client's
 * error, 400 `VALIDATION_FAILED` naming the field and the reason, never a 500 "misconfigured".
 * The engine, every idempotency middleware and `withIdempotency()` apply this one rule.
 */
import { BallastError } from '../errors/ballast-error.js';
import { isStorableText } from './idempotency-key.js';

/** Longest scope accepted, in characters (as the stores' scope column). */
export const maxScopeLength = 255;

/**
 * The `VALIDATION_FAILED` error for a scope that breaks the rule (`details`: `field: 'scope'`,
 * `reason` (`'not-a-string'`, `'empty'`, `'too-long'` or `'invalid-characters'`), `maxLength`),
 * or `undefined` for a good one.
 */
export function idempotencyScopeError(scope: unknown): BallastError | undefined {
  const reason =
    typeof scope !== 'string'
      ? 'not-a-string'
      : scope.length === 0
        ? 'empty'
        : scope.length > maxScopeLength
          ? 'too-long'
          : isStorableText(scope)
            ? undefined
            : 'invalid-characters';
  if (reason === undefined) return undefined;
  return new BallastError('VALIDATION_FAILED', {
    message: `The request's idempotency scope is invalid (${reason}).`,
    details: { field: 'scope', reason, maxLength: maxScopeLength },
  });
}
