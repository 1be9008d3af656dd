/**
 * Turns an HTTP error answer into a `BallastError`, so a caller branches on a stable `code` and
 * shows a message the server wrote for people, whatever the server's framework. A Ballast
 * server answers with RFC 9457 `application/problem+json` carrying `code`; any other error body
 * (an HTML page from a proxy, plain text) is mapped from the status, and its text is never used
 * as a message, because a proxy's page is neither short nor meant for end users.
 */
import { BallastError, parseRetryAfter } from '@ballast/core';
import { invalidOption } from '../options/option-checks.js';
import { readBody } from './read-body.js';

/** The code for a status when the body does not name one (5xx `UPSTREAM_ERROR`, other 4xx `VALIDATION_FAILED`). */
const codeForStatus: Readonly<Record<number, string>> = {
  401: 'AUTH_SESSION_EXPIRED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'VERSION_CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  428: 'PRECONDITION_REQUIRED',
  429: 'RATE_LIMITED',
};

/** A problem+json object; anything else (an HTML page, text, an array) holds no members. */
const asProblem = (body: unknown): Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};

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
  if (typeof (response as Partial<Response> | null)?.headers?.get !== 'function') {
    throw invalidOption('errorFromResponse()', 'response', 'expected a Response');
  }
  if (typeof now !== 'number')
    throw invalidOption('errorFromResponse()', 'now', 'expected a number');
  return problemError(response, now);
}

/**
 * {@link errorFromResponse} without the argument checks, for the client's own fetch path, which
 * always hands it a real `Response` (and whose bundle should not carry the checks).
 *
 * @internal
 */
export async function problemError(response: Response, now: number): Promise<BallastError> {
  // The standard members are read here; every other member (`currentVersion`) is a detail.
  const {
    type: _type,
    title: _title,
    status: _status,
    detail,
    code,
    action: _action,
    retryable,
    ...details
  } = asProblem(await readBody(response).catch(() => undefined));
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  const { status } = response;
  return new BallastError(
    typeof code === 'string'
      ? code
      : (codeForStatus[status] ?? (status >= 500 ? 'UPSTREAM_ERROR' : 'VALIDATION_FAILED')),
    {
      status,
      ...(typeof detail === 'string' ? { message: detail } : {}),
      ...(typeof retryable === 'boolean' ? { retryable } : {}),
      details,
    },
  );
}
