/**
 * What `idempotency.begin()` and `run()` check of each call before touching the store: the
 * request (scope, key, fingerprint) and the call options. By hand rather than with a schema,
 * since this runs on every request.
 */
import { BallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import { waitSchema } from './idempotency-config.js';
import type { IdempotencyCallOptions, IdempotencyRequest } from './idempotency-engine-types.js';
import {
  defaultIdempotencyScope,
  isStorableText,
  validateIdempotencyKey,
} from './idempotency-key.js';
import { idempotencyScopeError } from './idempotency-scope.js';

function invalidRequest(field: string, problem: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for idempotency.begin(): "${field}": ${problem}`,
    details: { field },
  });
}

// The scope last found valid: requests keep coming with one scope (or a few tenants'), so it
// is usually checked already, and comparing it costs less than checking it again.
let lastValidScope: string = defaultIdempotencyScope;

/**
 * The request with its default scope; `VALIDATION_FAILED` (400) for a string scope that breaks
 * the scope rule (it is usually the client's: a tenant header), `INVALID_OPTIONS` naming the
 * field for anything else wrong (a scope that is not a string, a bad fingerprint: the caller's).
 */
export function checkRequest(request: IdempotencyRequest): Required<IdempotencyRequest> {
  if (typeof request !== 'object' || request === null)
    throw invalidRequest('(options)', 'expected an object');
  const scope = request.scope ?? defaultIdempotencyScope;
  if (scope !== lastValidScope) {
    if (typeof scope !== 'string') throw invalidRequest('scope', 'expected a string');
    const refusal = idempotencyScopeError(scope);
    if (refusal !== undefined) throw refusal;
    lastValidScope = scope;
  }
  const requestFingerprint = request.fingerprint;
  if (
    typeof requestFingerprint !== 'string' ||
    requestFingerprint.length === 0 ||
    requestFingerprint.length > 512
  ) {
    throw invalidRequest('fingerprint', 'expected a string of 1 to 512 characters');
  }
  if (!isStorableText(requestFingerprint)) {
    throw invalidRequest('fingerprint', 'contains a NUL or an unpaired surrogate');
  }
  return { scope, key: validateIdempotencyKey(request.key), fingerprint: requestFingerprint };
}

/** The call options with `wait` resolved, or `INVALID_OPTIONS` naming the field. */
export function checkCallOptions(options: IdempotencyCallOptions): IdempotencyCallOptions {
  if (options.wait !== undefined && options.wait !== false) {
    return { ...options, wait: parseOptions(waitSchema, options.wait, 'idempotency.begin() wait') };
  }
  if (options.signal !== undefined && typeof options.signal?.addEventListener !== 'function') {
    throw invalidRequest('signal', 'expected an AbortSignal');
  }
  return options;
}
