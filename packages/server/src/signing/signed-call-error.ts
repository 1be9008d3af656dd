/**
 * A failed signed call as a value: the stable code the other side answered with (its
 * problem+json `code`, e.g. `SIGNATURE_EXPIRED`), and the `Response` itself, ky style, for
 * anything the code does not say.
 *
 * Its `status` is what this service answers its own caller with when the failure reaches the
 * error handler unhandled, a gateway status (502, 503, 504), never the other side's: an edge's
 * 401 means this service signed badly, and a browser told 401 would log its user out.
 */

import {
  BallastError,
  type BallastErrorOptions,
  type Logger,
  parseRetryAfter,
} from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';
import { isObject } from '../options/is-object.js';
/** Thrown by the signed client for a response that is not 2xx. */
export class SignedCallError extends BallastError {
  /** The response, body unread (the problem document was read from a clone). */
  readonly response: Response;
  /** What was called. */
  readonly request: { readonly method: string; readonly url: string };
  /** The status the other side answered with (`response.status`). */
  readonly upstreamStatus: number;

  /**
   * `options.status` defaults to the gateway status of `options.response.status` (see
   * {@link gatewayStatusOf}).
   */
  constructor(
    code: string,
    options: BallastErrorOptions & {
      response: Response;
      request: { method: string; url: string };
    },
  ) {
    if (!isObject(options) || !isObject(options.response) || !isObject(options.request)) {
      throw invalidArgument('new SignedCallError()', 'options', '{ response, request }');
    }
    super(code, { ...options, status: options.status ?? gatewayStatusOf(options.response.status) });
    this.response = options.response;
    this.request = options.request;
    this.upstreamStatus = options.response.status;
  }
}

/**
 * The status a gateway answers for an upstream's `status`, as a reverse proxy does: the upstream
 * timed out (504, 408) → 504; it is overloaded or refused us for load (503, 429) → 503; any
 * other failure, a 5xx or a 4xx this service caused (a bad signature, a request it built wrong)
 * → 502. Which upstream 4xx the end user caused (a contract that does not exist) only the route
 * knows: it catches the error, reads `code` or `upstreamStatus` and throws its own.
 *
 * @internal
 */
export function gatewayStatusOf(status: number): 502 | 503 | 504 {
  if (status === 504 || status === 408) return 504;
  if (status === 503 || status === 429) return 503;
  return 502;
}

/** 408, 429 and 5xx (except 501 and 505) may pass on a later attempt. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

interface ProblemBody {
  code?: unknown;
  retryable?: unknown;
  detail?: unknown;
  [member: string]: unknown;
}

async function problemOf(response: Response): Promise<ProblemBody | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!/^application\/(problem\+)?json/i.test(type)) return undefined;
  try {
    const body: unknown = await response.clone().json();
    return typeof body === 'object' && body !== null ? (body as ProblemBody) : undefined;
  } catch {
    // Not JSON after all: the status alone describes the failure.
    return undefined;
  }
}

const codePattern = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The error for a non-2xx `response`. Only the upstream's stable `code` (when it is one) and
 * the response status are kept: the code becomes the error's code (so a `SIGNATURE_INVALID`
 * from the edge is a `SIGNATURE_INVALID` here), else `UPSTREAM_ERROR`. Every other member of
 * the upstream problem (`detail`, `sql`, `stack`, `reason`…) stays out of `details`, because
 * `details` travel on to whoever this service answers; they are logged (`warn`) for the
 * operator and remain readable from `error.response`. A redirect is never followed (the client
 * sends `redirect: 'manual'`): it becomes a non-retryable `UPSTREAM_ERROR` with status 502 and
 * `details.reason: 'redirect'`, so the signed body is never re-sent to another URL.
 * `retryable` follows the problem's flag, else the status; `Retry-After` lands in
 * `details.retryAfterMs`, which `retry()` honours.
 *
 * @internal
 */
export async function signedCallErrorOf(
  response: Response,
  request: { method: string; url: string },
  now: number,
  logger?: Logger,
): Promise<SignedCallError> {
  if (isRedirect(response)) {
    logger?.warn(
      { ...request, status: response.status, location: response.headers.get('location') },
      'signed call answered with a redirect; not followed',
    );
    return new SignedCallError('UPSTREAM_ERROR', {
      message: `${request.method} ${request.url} answered a redirect (${response.status}), which a signed call never follows`,
      status: 502,
      retryable: false,
      details: { reason: 'redirect', upstreamStatus: response.status },
      response,
      request,
    });
  }
  const problem = await problemOf(response);
  const code =
    typeof problem?.code === 'string' && codePattern.test(problem.code)
      ? problem.code
      : 'UPSTREAM_ERROR';
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
  if (problem !== undefined) {
    // The upstream's own account, whatever it holds, goes to the operator's log only.
    logger?.warn(
      { ...request, status: response.status, code, upstreamProblem: problem },
      'signed call failed',
    );
  }
  const details: Record<string, unknown> = { status: response.status };
  const retryable = problem?.retryable;
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  return new SignedCallError(code, {
    message: `${request.method} ${request.url} answered ${response.status} ${code}`,
    retryable: typeof retryable === 'boolean' ? retryable : isRetryableStatus(response.status),
    details,
    response,
    request,
  });
}

/** A 3xx answer, or the opaque one a browser's fetch returns for `redirect: 'manual'`. */
function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
}
