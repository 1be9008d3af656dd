/**
 * One way to turn a failure into an HTTP answer: RFC 9457 `application/problem+json` with the
 * error's stable code. Anything that is not a `BallastError` becomes `INTERNAL`, so a thrown
 * database error's message (SQL, a path, a secret) can never reach a client.
 */
import { toBallastError, toProblem } from '@ballast/core';

/** Options for {@link problemResponse}. */
export interface ProblemResponseOptions {
  /** Locale of the user-facing `detail`. Default `'en'`. */
  locale?: string;
  /** The problem's `instance` member, usually the request path. Default: none. */
  instance?: string;
  /** Extra response headers (a `Link`, a trace id). Content-Type is always problem+json. */
  headers?: HeadersInit;
}

/**
 * A problem+json `Response` for any thrown value. Status, code, action and `retryable` come from
 * the error; `Retry-After` is set (whole seconds, rounded up) when `details.retryAfterSeconds`
 * is a non-negative number, as for `IDEMPOTENCY_IN_FLIGHT` or `RATE_LIMITED`.
 *
 * @example
 * ```ts
 * try {
 *   return await handler(request);
 * } catch (error) {
 *   return problemResponse(error, { locale: 'es' });
 * }
 * ```
 */
export function problemResponse(error: unknown, options: ProblemResponseOptions = {}): Response {
  const failure = toBallastError(error);
  const problem = toProblem(failure, {
    ...(options.locale === undefined ? {} : { locale: options.locale }),
    ...(options.instance === undefined ? {} : { instance: options.instance }),
  });
  const headers = new Headers(options.headers);
  headers.set('content-type', 'application/problem+json');
  const retryAfter = failure.details.retryAfterSeconds;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0) {
    headers.set('retry-after', String(Math.ceil(retryAfter)));
  }
  return new Response(JSON.stringify(problem), { status: failure.status, headers });
}
