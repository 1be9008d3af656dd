/**
 * Turns an HTTP error answer into a `BallastError`, so a caller branches on a stable `code` and
 * shows a message the server wrote for people, whatever the server's framework. A Ballast
 * server answers with RFC 9457 `application/problem+json` carrying `code`; any other error body
 * (an HTML page from a proxy, plain text) is mapped from the status, and its text is never used
 * as a message, because a proxy's page is neither short nor meant for end users.
 */
import { BallastError, parseRetryAfter } from '@ballast/core';

const standardMembers = new Set([
  'type',
  'title',
  'status',
  'detail',
  'code',
  'action',
  'retryable',
]);

/** The code for a status when the body does not name one. */
function codeForStatus(status: number): string {
  switch (status) {
    case 401:
      return 'AUTH_SESSION_EXPIRED';
    case 402:
      return 'PAYMENT_REQUIRED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'VERSION_CONFLICT';
    case 412:
      return 'PRECONDITION_FAILED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 428:
      return 'PRECONDITION_REQUIRED';
    case 429:
      return 'RATE_LIMITED';
    default:
      return status >= 500 ? 'UPSTREAM_ERROR' : 'VALIDATION_FAILED';
  }
}

async function readProblem(response: Response): Promise<Record<string, unknown> | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!/[/+]json\b/i.test(type)) return undefined;
  try {
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  } catch {
    // A JSON content type with a body that is not JSON: treat it like any non-problem answer.
    return undefined;
  }
}

/**
 * Reads a non-2xx `response` into a `BallastError`: `code`, `detail` (as the message) and the
 * extension members (as `details`, e.g. `currentVersion`) from problem+json; the status and
 * `Retry-After` (as `details.retryAfterMs`) always. The error's `message` is the server's
 * `detail` when it sent one ("Insufficient stock"), else the code itself: the localized
 * catalogue texts stay out of the browser bundle unless the app imports `userMessage` from
 * `@ballast/core` to show one.
 *
 * @param now epoch milliseconds, for an HTTP-date `Retry-After`.
 */
export async function errorFromResponse(response: Response, now: number): Promise<BallastError> {
  const problem = await readProblem(response);
  const code = typeof problem?.code === 'string' ? problem.code : codeForStatus(response.status);
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(problem ?? {})) {
    if (!standardMembers.has(key)) details[key] = value;
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  const detail = typeof problem?.detail === 'string' ? problem.detail : undefined;
  return new BallastError(code, {
    status: response.status,
    ...(detail === undefined ? {} : { message: detail }),
    ...(typeof problem?.retryable === 'boolean' ? { retryable: problem.retryable } : {}),
    details,
  });
}
