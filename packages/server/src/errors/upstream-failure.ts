/**
 * A failed call to another service, as this service's own caller sees it. The signed client's
 * `SignedCallError` keeps the other side's code (`SIGNATURE_INVALID`, `NOT_FOUND`) for the route
 * to branch on; passed through, that code and its status would tell a browser something about
 * the browser's request that is really about this service's (a 401 would log the user out, a
 * 404 would say its resource is gone). A proxy's answer instead: 502 `UPSTREAM_ERROR`, 503
 * `SERVICE_UNAVAILABLE` for an overloaded upstream, 504 `UPSTREAM_ERROR` for a slow one.
 * Recognised by shape, as the rest of classify-error.ts.
 */
import { BallastError } from '@ballast/core';

interface UpstreamFailureLike {
  readonly status: number;
  readonly retryable: boolean;
  readonly upstreamStatus: number;
  readonly details: Readonly<Record<string, unknown>>;
}

/** True for a `SignedCallError` (of any installed copy of `@ballast/server`). */
export function isUpstreamFailure(error: unknown): error is UpstreamFailureLike {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as Partial<UpstreamFailureLike> & {
    response?: unknown;
    request?: unknown;
  };
  return (
    typeof candidate.upstreamStatus === 'number' &&
    typeof candidate.status === 'number' &&
    typeof candidate.response === 'object' &&
    candidate.response !== null &&
    typeof candidate.request === 'object' &&
    candidate.request !== null
  );
}

/** The gateway error for a failed upstream call; the call's error is its `cause`. */
export function fromUpstreamFailure(error: UpstreamFailureLike): BallastError {
  const { upstreamStatus } = error;
  const status = error.status === 503 || error.status === 504 ? error.status : 502;
  // A retry by the browser can only help when the upstream's failure was a passing one; an
  // upstream 4xx (other than 408 and 429) will be answered the same way next time.
  const transient = upstreamStatus === 408 || upstreamStatus === 429 || upstreamStatus >= 500;
  const retryAfterMs = error.details.retryAfterMs;
  const details =
    typeof retryAfterMs === 'number' && retryAfterMs >= 0
      ? { retryAfterSeconds: Math.ceil(retryAfterMs / 1_000) }
      : {};
  if (status === 503) return new BallastError('SERVICE_UNAVAILABLE', { cause: error, details });
  return new BallastError('UPSTREAM_ERROR', {
    status,
    retryable: transient && error.retryable,
    cause: error,
    details,
  });
}
