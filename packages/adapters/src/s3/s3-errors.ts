/**
 * Translation of what the AWS SDK throws into Ballast's storage taxonomy. The SDK reports S3
 * failures as exceptions named after S3's error code, transport failures as Node errors with
 * an errno `code`, and aborts as `AbortError`; callers of the `ObjectStorage` port should not
 * have to know any of that, so every failure leaves the adapter as a `BallastError` whose
 * `retryable` flag tells `retry()` and the circuit breaker what to do. Messages are built from
 * the operation, bucket, key and S3's error name only: S3's own message text is not copied,
 * because some errors (`SignatureDoesNotMatch`) echo the string that was signed.
 */
import { BallastError, type ErrorClassifier, isBallastError } from '@ballast/core';
import { connectionFailureCodes } from '@ballast/core/adapter-kit';

/** The port operation a failure belongs to, named in log lines and messages. */
export type S3Operation =
  | 'put'
  | 'get'
  | 'head'
  | 'delete'
  | 'move'
  | 'list'
  | 'presignPut'
  | 'presignGet';

/** How Ballast reads one failure. */
export type S3FailureKind =
  | 'not-found'
  | 'throttled'
  | 'unavailable'
  | 'timeout'
  | 'aborted'
  | 'access-denied'
  | 'no-such-bucket'
  | 'too-large'
  | 'rejected';

/** What the SDK error says, in the few fields Ballast reads. */
export interface S3FailureFacts {
  readonly kind: S3FailureKind;
  /** S3's error code (`NoSuchKey`, `SlowDown`) or the Node errno (`ECONNREFUSED`). */
  readonly s3Code?: string;
  readonly httpStatus?: number;
  readonly requestId?: string;
}

// S3 and S3-compatible servers say "slow down" under several names; all of them mean the same.
const throttlingCodes = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
]);

// Server-side conditions that a later attempt usually gets past. `RequestTimeout` is S3's 400
// for an upload whose body stalled, so it is transient although its status is 4xx.
const transientCodes = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'OperationAborted',
  'PriorRequestNotComplete',
]);

// Transport failures: the request may never have reached S3, or its answer was lost.
const networkCodes = new Set(connectionFailureCodes);

const notFoundCodes = new Set(['NoSuchKey', 'NotFound']);
const accessDeniedCodes = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'AllAccessDisabled',
  'CredentialsProviderError',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  $retryable?: { throttling?: unknown };
  cause?: unknown;
}

function shapeOf(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Reads an error thrown by `@aws-sdk/client-s3` (or the HTTP layer under it) into
 * {@link S3FailureFacts}. Pure and total: anything unrecognised is `'rejected'`.
 */
export function classifyS3Error(error: unknown): S3FailureFacts {
  const shape = shapeOf(error);
  const errno = stringOrUndefined(shape.code);
  const name = stringOrUndefined(shape.Code) ?? stringOrUndefined(shape.name);
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number'
      ? shape.$metadata.httpStatusCode
      : undefined;
  const requestId = stringOrUndefined(shape.$metadata?.requestId);
  const facts = (kind: S3FailureKind, s3Code = errno ?? name): S3FailureFacts => ({
    kind,
    ...(s3Code === undefined ? {} : { s3Code }),
    ...(status === undefined ? {} : { httpStatus: status }),
    ...(requestId === undefined ? {} : { requestId }),
  });

  // The Node handler renames ECONNRESET/EPIPE/ETIMEDOUT to `TimeoutError`, so the errno wins.
  if (errno !== undefined && networkCodes.has(errno)) return facts('unavailable', errno);
  if (name === 'AbortError') return facts('aborted');
  if (name === 'TimeoutError') return facts('timeout');
  if (name !== undefined && notFoundCodes.has(name)) return facts('not-found');
  if (name === 'NoSuchBucket') return facts('no-such-bucket');
  if (name !== undefined && accessDeniedCodes.has(name)) return facts('access-denied');
  if (name === 'EntityTooLarge') return facts('too-large');
  if (name !== undefined && throttlingCodes.has(name)) return facts('throttled');
  if (shape.$retryable?.throttling === true || status === 429) return facts('throttled');
  if (name !== undefined && transientCodes.has(name)) return facts('unavailable');
  if (status !== undefined && status >= 500) return facts('unavailable');
  if (status === 404) return facts('not-found');
  if (status === 403) return facts('access-denied');
  // A transport error wrapped once (fetch-based handlers put the errno on `cause`).
  const causeErrno = stringOrUndefined(shapeOf(shape.cause).code);
  if (causeErrno !== undefined && networkCodes.has(causeErrno)) {
    return facts('unavailable', causeErrno);
  }
  if (status === undefined && name === 'TypeError') return facts('unavailable');
  return facts('rejected');
}

/** Where a failure happened, for the message and the log line. */
export interface S3FailureContext {
  readonly operation: S3Operation;
  readonly bucket: string;
  readonly key?: string;
}

function describe(context: S3FailureContext, facts: S3FailureFacts): string {
  const target = context.key === undefined ? context.bucket : `${context.bucket}/${context.key}`;
  const code = facts.s3Code === undefined ? '' : ` (${facts.s3Code})`;
  const status = facts.httpStatus === undefined ? '' : ` [HTTP ${facts.httpStatus}]`;
  return `S3 ${context.operation} of ${target} failed${code}${status}`;
}

/**
 * The `BallastError` for an SDK failure. Not-found is not mapped here: `get` and `head` turn
 * it into `undefined` and `delete` into success before this is reached.
 *
 * | kind | code | retryable |
 * | --- | --- | --- |
 * | throttled, unavailable | `STORAGE_UNAVAILABLE` | yes |
 * | timeout | `TIMEOUT` | yes |
 * | aborted | `ABORTED` | no |
 * | access-denied, no-such-bucket, rejected | `STORAGE_UNAVAILABLE` | no |
 * | too-large | `PAYLOAD_TOO_LARGE` | no |
 * | not-found | `OBJECT_NOT_FOUND` | no |
 */
export function toStorageError(
  error: unknown,
  context: S3FailureContext,
  facts: S3FailureFacts = classifyS3Error(error),
): BallastError {
  const message = describe(context, facts);
  const details: Record<string, unknown> = { operation: context.operation, reason: facts.kind };
  switch (facts.kind) {
    case 'throttled':
    case 'unavailable':
      return new BallastError('STORAGE_UNAVAILABLE', { message, cause: error, details });
    case 'timeout':
      return new BallastError('TIMEOUT', { message, cause: error, details });
    case 'aborted':
      return new BallastError('ABORTED', { message, cause: error, details });
    case 'too-large':
      return new BallastError('PAYLOAD_TOO_LARGE', { message, cause: error, details });
    case 'not-found':
      return new BallastError('OBJECT_NOT_FOUND', { message, cause: error, details });
    // Credentials, bucket policy, a missing bucket or a request S3 refuses are the operator's
    // to fix: to the end user the storage is unavailable (503, not 403: the user is not the
    // one being refused), and repeating the call cannot help.
    case 'access-denied':
    case 'no-such-bucket':
    case 'rejected':
      return new BallastError('STORAGE_UNAVAILABLE', {
        message,
        cause: error,
        details,
        retryable: false,
      });
  }
}

/**
 * A retry classifier for S3 failures, shaped as core's `ErrorClassifier` so that it composes
 * in front of the default one: `composeClassifiers(s3RetryClassifier, classifyError)`.
 * Throttling (`SlowDown`, 429), 5xx, `RequestTimeout` (S3's 400 for a stalled upload),
 * transport errors and timeouts → `'retry'`; not-found, access denied, a missing bucket, other
 * 4xx and aborts → `'fail'`. Accepts raw SDK errors (when you call the S3 client yourself) and
 * the `BallastError`s that `S3ObjectStorage` throws (their `retryable` flag decides); an error
 * it cannot read gets no opinion (`undefined`), so the next classifier decides.
 *
 * @example
 * ```ts
 * const classify = composeClassifiers(s3RetryClassifier, classifyError);
 * const info = await retry(() => storage.put(key, bytes), { classify });
 * ```
 */
export const s3RetryClassifier: ErrorClassifier = (error) => {
  if (isBallastError(error)) return error.retryable ? 'retry' : 'fail';
  const facts = classifyS3Error(error);
  switch (facts.kind) {
    case 'throttled':
    case 'unavailable':
    case 'timeout':
      return 'retry';
    case 'rejected':
      // Only an S3 answer (it has a status) is known to be a refusal; anything else is not ours.
      return facts.httpStatus === undefined ? undefined : 'fail';
    default:
      return 'fail';
  }
};
