/**
 * What leaves the process: the message a person reads and the RFC 9457 problem+json body. Kept
 * apart from the `BallastError` class so that throwing an error does not pull the en/es message
 * catalogues into a bundle; code that renders errors for people (a server's error handler, a
 * client's banner) imports these and pays for them there.
 */

import { toBallastError } from './ballast-error.js';
import type { ErrorAction } from './error-codes.js';
import { messageForCode } from './messages.js';

/** RFC 9457 `application/problem+json` body, with Ballast's extension members. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  action: ErrorAction;
  retryable: boolean;
  instance?: string;
  [extension: string]: unknown;
}

/** Options for {@link toProblem}. */
export interface ToProblemOptions {
  /** Locale of the user-facing `detail`. Default `'en'`. */
  locale?: string;
  /** URI of this occurrence, usually the request path. */
  instance?: string;
  /** Base URI of the `type` member. Default `'https://ballast.dev/errors/'`. */
  typeBaseUrl?: string;
}

const defaultTypeBaseUrl = 'https://ballast.dev/errors/';

/**
 * The message to show a person for an error or a code, in `locale`. Falls back from `es-AR` to
 * `es`, then English, then the generic internal message, so it always returns something safe
 * to show. A value that is not a `BallastError` gets the generic message, since its own text
 * may hold SQL, a path or a secret.
 *
 * @example
 * ```ts
 * if (isBallastError(error, 'VERSION_CONFLICT')) showBanner(userMessage(error, 'es'));
 * ```
 */
export function userMessage(errorOrCode: unknown, locale = 'en'): string {
  const code = typeof errorOrCode === 'string' ? errorOrCode : toBallastError(errorOrCode).code;
  return messageForCode(code, locale);
}

/**
 * An RFC 9457 problem document for anything thrown. `detail` is the localised user message,
 * never the developer message, so internals cannot leak through it; a value that is not a
 * `BallastError` is rendered as `INTERNAL`. Members of `details` are included, but the standard
 * members always win over them.
 *
 * @example
 * ```ts
 * response.status(failure.status).json(toProblem(failure, { locale: 'es', instance: req.path }));
 * ```
 */
export function toProblem(error: unknown, options: ToProblemOptions = {}): ProblemDetails {
  const failure = toBallastError(error);
  const problem: ProblemDetails = {
    ...failure.details,
    type: `${options.typeBaseUrl ?? defaultTypeBaseUrl}${failure.code.toLowerCase().replaceAll('_', '-')}`,
    title: failure.code,
    status: failure.status,
    detail: messageForCode(failure.code, options.locale),
    code: failure.code,
    action: failure.action,
    retryable: failure.retryable,
  };
  if (options.instance !== undefined) problem.instance = options.instance;
  return problem;
}
