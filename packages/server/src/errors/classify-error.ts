/**
 * What a thrown value means to a client. Libraries throw their own error types (zod's
 * `ZodError`, the Postgres driver's `DatabaseError`, a body parser's `HttpError`, Fastify's
 * validation error); each becomes a `BallastError` with a stable code and a safe message here,
 * so every failure reaches the client typed, and the original (with its SQL, constraint names,
 * stack) stays in `cause`, for the log only.
 *
 * Recognition is by shape, never `instanceof`, so neither zod nor pg is imported and two
 * installed copies of either are recognised alike.
 */

import { BallastError, isBallastError } from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';
import { isUnreachableDependency } from './unreachable-dependency.js';
import { fromUpstreamFailure, isUpstreamFailure } from './upstream-failure.js';

/** How one database constraint is explained to a client. */
export interface ConstraintMapping {
  /**
   * The error code to answer with (register its messages with `registerMessages`), e.g.
   * `'EMAIL_TAKEN'`. Default: the constraint class's code (`ALREADY_EXISTS`…).
   */
  readonly code?: string;
  /** The input field the constraint is about, sent as `field`. Default: none. */
  readonly field?: string;
}

/** Options for {@link classifyError}. */
export interface ClassifyErrorOptions {
  /**
   * Per-constraint meaning, by constraint name (`users_email_key`): the code and field to answer
   * with. Unlisted constraints get their class's generic code and message. Default: none.
   */
  readonly constraints?: Readonly<Record<string, ConstraintMapping>>;
}

/** One invalid input, with its path (`items.0.quantity`) and where it was (`body`, `query`…). */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
  readonly in?: string;
}

interface ZodLikeIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

function isZodError(error: unknown): error is { issues: readonly ZodLikeIssue[] } {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; issues?: unknown };
  return (
    (candidate.name === 'ZodError' || candidate.name === '$ZodError') &&
    Array.isArray(candidate.issues)
  );
}

/** Joins a validation path as `items.0.quantity`; the root is `''`. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((segment) => String(segment)).join('.');
}

/**
 * Most invalid fields a `VALIDATION_FAILED` lists. Enough for any form; without a bound, a body
 * of a million wrong array items would be answered with a problem many times its size.
 */
export const maxListedIssues = 100;

/** `VALIDATION_FAILED` (400) listing each invalid field (the first {@link maxListedIssues}). */
export function validationFailed(issues: readonly FieldIssue[], cause?: unknown): BallastError {
  if (!Array.isArray(issues)) throw invalidArgument('validationFailed()', 'issues', 'an array');
  const first = issues[0];
  return new BallastError('VALIDATION_FAILED', {
    message: `Invalid input${first ? ` at "${first.path || '(root)'}": ${first.message}` : ''}`,
    cause,
    details: {
      ...(first ? { field: first.path } : {}),
      errors: issues.length > maxListedIssues ? issues.slice(0, maxListedIssues) : issues,
    },
  });
}

/** Postgres SQLSTATE classes of integrity violations (Appendix A of the Postgres manual). */
const constraintClasses: Readonly<Record<string, { code: string; status: number }>> = {
  '23505': { code: 'ALREADY_EXISTS', status: 409 }, // unique_violation
  '23P01': { code: 'ALREADY_EXISTS', status: 409 }, // exclusion_violation
  '23503': { code: 'REFERENCE_CONFLICT', status: 409 }, // foreign_key_violation
  '23502': { code: 'VALUE_REQUIRED', status: 400 }, // not_null_violation
  '23514': { code: 'CONSTRAINT_VIOLATED', status: 400 }, // check_violation
  // Class 22, data exceptions: a value the column cannot take, almost always a client's input
  // that reached the database unchecked. A 400, never a 500 the client cannot act on.
  '22001': { code: 'VALIDATION_FAILED', status: 400 }, // string_data_right_truncation
  '22003': { code: 'VALIDATION_FAILED', status: 400 }, // numeric_value_out_of_range
  '22007': { code: 'VALIDATION_FAILED', status: 400 }, // invalid_datetime_format
  '22008': { code: 'VALIDATION_FAILED', status: 400 }, // datetime_field_overflow
  '22021': { code: 'VALIDATION_FAILED', status: 400 }, // character_not_in_repertoire
  '22P02': { code: 'VALIDATION_FAILED', status: 400 }, // invalid_text_representation
  '22P05': { code: 'VALIDATION_FAILED', status: 400 }, // untranslatable_character
};

/**
 * serialization_failure and deadlock_detected: a concurrent transaction won and Postgres rolled
 * this one back (REPEATABLE READ, SERIALIZABLE). The request was fine; running it again may win.
 */
const lostRaceStates = new Set(['40001', '40P01']);

interface DatabaseErrorLike {
  readonly code: string;
  readonly constraint?: string;
  readonly column?: string;
}

function isDatabaseError(error: unknown): error is DatabaseErrorLike {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { code?: unknown; severity?: unknown; routine?: unknown };
  // pg's DatabaseError and postgres.js's PostgresError both carry a SQLSTATE and a severity.
  return (
    typeof candidate.code === 'string' &&
    /^[0-9A-Z]{5}$/.test(candidate.code) &&
    (typeof candidate.severity === 'string' || typeof candidate.routine === 'string')
  );
}

function fromDatabaseError(
  error: DatabaseErrorLike,
  options: ClassifyErrorOptions,
): BallastError | undefined {
  const known = constraintClasses[error.code];
  if (!known) return undefined;
  const mapping = error.constraint ? options.constraints?.[error.constraint] : undefined;
  // A not-null violation names its column; anything else needs the application's mapping to
  // say which input field it concerns (a constraint name is schema, not API).
  const field = mapping?.field ?? (error.code === '23502' ? error.column : undefined);
  return new BallastError(mapping?.code ?? known.code, {
    status: known.status,
    retryable: false,
    action: 'correct-input',
    message: `Database constraint ${error.constraint ?? error.column ?? error.code} rejected the write`,
    cause: error,
    details: field === undefined ? {} : { field },
  });
}

interface HttpErrorLike {
  readonly status?: number;
  readonly statusCode?: number;
  readonly expose?: boolean;
  readonly validation?: ReadonlyArray<{
    instancePath?: string;
    message?: string;
    params?: Record<string, unknown>;
  }>;
  readonly validationContext?: string;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as HttpErrorLike;
  const value = typeof statusCode === 'number' ? statusCode : status;
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/** Fastify's own schema validation (Ajv): `error.validation` with JSON-pointer paths. */
function fromSchemaValidation(error: HttpErrorLike): BallastError {
  const where = error.validationContext;
  const issues = (error.validation ?? []).map((issue): FieldIssue => {
    let path = (issue.instancePath ?? '').split('/').filter(Boolean).join('.');
    const missing = issue.params?.missingProperty;
    if (typeof missing === 'string') path = path ? `${path}.${missing}` : missing;
    return {
      path,
      message: issue.message ?? 'is not valid',
      ...(where === undefined ? {} : { in: where }),
    };
  });
  return validationFailed(issues, error);
}

/** How long a client is asked to wait after an outage: long enough for a failover or restart. */
const unavailableRetryAfterSeconds = 5;

/**
 * Turns anything thrown into a `BallastError`:
 *
 * | thrown | code | status |
 * | --- | --- | --- |
 * | a signed call's `SignedCallError` (the other side answered non-2xx) | `UPSTREAM_ERROR`; `SERVICE_UNAVAILABLE` for an upstream 503 or 429 | 502; 503; 504 for an upstream 504 or 408 |
 * | `BallastError` | its own | its own |
 * | `ZodError` | `VALIDATION_FAILED` with `errors: [{ path, message }]` | 400 |
 * | Fastify schema validation error | `VALIDATION_FAILED` with paths | 400 |
 * | Postgres unique / exclusion violation | `ALREADY_EXISTS` | 409 |
 * | Postgres foreign-key violation | `REFERENCE_CONFLICT` | 409 |
 * | Postgres not-null violation | `VALUE_REQUIRED` (`field`: the column) | 400 |
 * | Postgres check violation | `CONSTRAINT_VIOLATED` | 400 |
 * | Postgres serialization failure or deadlock (SQLSTATE 40001, 40P01) | `TRANSACTION_CONFLICT`, `Retry-After: 1` | 409 |
 * | an HTTP error with a 4xx status (body parsers, Fastify) | `PAYLOAD_TOO_LARGE` (413), `NOT_FOUND` (404), `UNSUPPORTED_MEDIA_TYPE` (415) or `VALIDATION_FAILED` with that status | 4xx |
 * | a dependency unreachable: connection refused, reset or timed out, Postgres shutting down or out of connections (SQLSTATE 08xxx, 57P01–57P03, 53300), ioredis out of retries or closed | `SERVICE_UNAVAILABLE`, `Retry-After: 5` | 503 |
 * | a `TimeoutError` (`AbortSignal.timeout()` fired on a call the route made) | `TIMEOUT` | 504 |
 * | anything else | `INTERNAL` | 500 |
 *
 * The original error is the result's `cause`; its message never reaches a client.
 */
export function classifyError(error: unknown, options: ClassifyErrorOptions = {}): BallastError {
  if (isUpstreamFailure(error)) return fromUpstreamFailure(error);
  if (isBallastError(error)) return error;
  if (isZodError(error)) {
    return validationFailed(
      error.issues.map((issue) => ({ path: issuePath(issue.path), message: issue.message })),
      error,
    );
  }
  if (isDatabaseError(error)) {
    if (lostRaceStates.has(error.code)) {
      return new BallastError('TRANSACTION_CONFLICT', {
        cause: error,
        details: { retryAfterSeconds: 1 },
      });
    }
    const classified = fromDatabaseError(error, options);
    if (classified) return classified;
  }
  const status = statusOf(error);
  if (status !== undefined && status >= 400 && status < 500) {
    const http = error as HttpErrorLike;
    if (Array.isArray(http.validation)) return fromSchemaValidation(http);
    if (status === 413) return new BallastError('PAYLOAD_TOO_LARGE', { cause: error });
    if (status === 404) return new BallastError('NOT_FOUND', { cause: error });
    // A body in a content coding or charset the parser does not decode (body-parser's 415).
    if (status === 415) return new BallastError('UNSUPPORTED_MEDIA_TYPE', { cause: error });
    // A malformed JSON body, another 4xx: the client's input, not our failure.
    return new BallastError('VALIDATION_FAILED', { status, cause: error });
  }
  if (isUnreachableDependency(error)) {
    return new BallastError('SERVICE_UNAVAILABLE', {
      cause: error,
      details: { retryAfterSeconds: unavailableRetryAfterSeconds },
    });
  }
  // A deadline the route set on its own call to a dependency (fetch, a driver) ran out: the
  // dependency was too slow, which a gateway answers with 504.
  if (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'TimeoutError'
  ) {
    return new BallastError('TIMEOUT', { cause: error });
  }
  return new BallastError('INTERNAL', { cause: error });
}
