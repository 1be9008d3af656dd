/**
 * A failed signed call as a value: the stable code the other side answered with (its
 * problem+json `code`, e.g. `SIGNATURE_EXPIRED`), and the `Response` itself, ky style, for
 * anything the code does not say.
 */
import { BallastError, type BallastErrorOptions, parseRetryAfter } from '@ballast/core';

/** Thrown by the signed client for a response that is not 2xx. */
export class SignedCallError extends BallastError {
  /** The response, body unread (the problem document was read from a clone). */
  readonly response: Response;
  /** What was called. */
  readonly request: { readonly method: string; readonly url: string };

  constructor(
    code: string,
    options: BallastErrorOptions & {
      response: Response;
      request: { method: string; url: string };
    },
  ) {
    super(code, options);
    this.response = options.response;
    this.request = options.request;
  }
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
const standardMembers = new Set([
  'type',
  'title',
  'status',
  'detail',
  'instance',
  'code',
  'action',
  'retryable',
]);

/**
 * The error for a non-2xx `response`. A problem document's `code` becomes the error's code (so a
 * `SIGNATURE_INVALID` from the edge is a `SIGNATURE_INVALID` here); its other members go to
 * `details`. Without one, the code is `UPSTREAM_ERROR`. `status` is the response's status;
 * `retryable` follows the problem's flag, else the status; `Retry-After` lands in
 * `details.retryAfterMs`, which `retry()` honours.
 *
 * @internal
 */
export async function signedCallErrorOf(
  response: Response,
  request: { method: string; url: string },
  now: number,
): Promise<SignedCallError> {
  const problem = await problemOf(response);
  const code =
    typeof problem?.code === 'string' && codePattern.test(problem.code)
      ? problem.code
      : 'UPSTREAM_ERROR';
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
  // Extension members (reason, header, field…) become details; the standard ones are restated
  // by the error itself.
  const details: Record<string, unknown> = {};
  for (const [member, value] of Object.entries(problem ?? {})) {
    if (!standardMembers.has(member)) details[member] = value;
  }
  details.status = response.status;
  const retryable = problem?.retryable;
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  return new SignedCallError(code, {
    message: `${request.method} ${request.url} answered ${response.status} ${code}`,
    status: response.status,
    retryable: typeof retryable === 'boolean' ? retryable : isRetryableStatus(response.status),
    details,
    response,
    request,
  });
}
