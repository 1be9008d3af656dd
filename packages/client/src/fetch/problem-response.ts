/**
 * Turns an HTTP error answer into a `BallastError`, so a caller branches on a stable `code` and
 * shows a message the server wrote for people, whatever the server's framework. A Ballast
 * server answers with RFC 9457 `application/problem+json` carrying `code`; any other error body
 * (an HTML page from a proxy, plain text) is mapped from the status, and its text is never used
 * as a message, because a proxy's page is neither short nor meant for end users.
 */
import { type BallastError, type ErrorAction, parseRetryAfter } from '@ballast/core';
import { clientError, clientErrorCodes } from '../errors/client-error.js';
import { invalidOption } from '../options/option-checks.js';
import { readBody } from './read-body.js';

/** A problem+json object; anything else (an HTML page, text, an array) holds no members. */
const asProblem = (body: unknown): Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};

/**
 * Reads a non-2xx `response` into a `BallastError`: `code`, `detail` (as the message), `action`,
 * `retryable` and the extension members (as `details`, e.g. `currentVersion`) from
 * problem+json; the status and `Retry-After` (as `details.retryAfterMs`) always. A code whose
 * body leaves out `action` or `retryable` gets the client's defaults for it (client-error.ts),
 * or those of an unknown code. The error's `message` is the server's
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
    action,
    retryable,
    ...details
  } = asProblem(await readBody(response).catch(() => undefined));
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  const { status } = response;
  return clientError(
    typeof code === 'string'
      ? code
      : // An answer whose body names no code gets the first code in client-error.ts with its
        // status, if it is one a server answers with (ABORTED's 499 is the caller's own; the
        // 5xx codes are the client's, and a 409 is VERSION_CONFLICT, listed first).
        (Object.keys(clientErrorCodes).find(
          (known) => status < 499 && clientErrorCodes[known]?.status === status,
        ) ??
          // A redirect of a write, which is never followed (see createClient), is not the
          // caller's mistake: the write was not applied, and is sent again later, same key.
          (status >= 500 || status < 400 ? 'UPSTREAM_ERROR' : 'VALIDATION_FAILED')),
    {
      status,
      ...(typeof detail === 'string' ? { message: detail } : {}),
      ...(typeof retryable === 'boolean' ? { retryable } : {}),
      // A Ballast server sends both with every code, so the client need not know them all.
      ...(typeof action === 'string' ? { action: action as ErrorAction } : {}),
      details,
    },
  );
}
