/**
 * What every storage's `put` accepts as a body and how a body fails, alike on memory, the file
 * system and S3, so a test on memory fails where production would: a body of another shape or
 * a `contentLength` that is no size is the calling code's mistake (`INVALID_OPTIONS` naming
 * `put()`); a stream of another length than its `contentLength` is refused (`VALIDATION_FAILED`)
 * with nothing stored; a stream that errors is the caller's source failing (`UPLOAD_FAILED`,
 * not retryable: a retry would read the same dead stream), never a storage outage.
 */

import { readBodyStream } from '../body/read-body-stream.js';
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import { invalidArgument } from '../options/invalid-argument.js';
import type { ObjectBody } from './object-body.js';

/**
 * Throws `INVALID_OPTIONS` naming `put()` unless `body` is a `Uint8Array`, a string or a
 * `ReadableStream` and `contentLength` is absent or a whole number of bytes.
 *
 * @example
 * ```ts
 * assertPutBody(body, options.contentLength); // at the top of an ObjectStorage's put()
 * ```
 */
export function assertPutBody(body: unknown, contentLength: unknown): asserts body is ObjectBody {
  const isStream = typeof (body as Partial<ReadableStream> | null)?.getReader === 'function';
  if (typeof body !== 'string' && !(body instanceof Uint8Array) && !isStream) {
    throw invalidArgument('put()', 'body', 'a Uint8Array, a string or a ReadableStream');
  }
  if (
    contentLength !== undefined &&
    !(Number.isSafeInteger(contentLength) && (contentLength as number) >= 0)
  ) {
    throw invalidArgument('put()', 'contentLength', 'a whole number of bytes, 0 or more');
  }
}

/** The refusal of a stream whose length is not its declared `contentLength`. */
export function contentLengthMismatch(expected: number, actual: string): BallastError {
  return new BallastError('VALIDATION_FAILED', {
    message: `put() body stream had ${actual} bytes but contentLength said ${expected}`,
    details: { field: 'contentLength' },
  });
}

/**
 * The error of a put whose body stream (the caller's) failed: a `BallastError` unchanged (a
 * length mismatch, a size limit), `ABORTED` when `signal` fired, else `UPLOAD_FAILED`.
 */
export function putStreamFailed(key: string, error: unknown, signal?: AbortSignal): BallastError {
  if (isBallastError(error)) return error;
  if (signal?.aborted) {
    return new BallastError('ABORTED', {
      message: 'The operation was aborted.',
      cause: signal.reason,
    });
  }
  return new BallastError('UPLOAD_FAILED', {
    message: `put of ${key} failed: the body stream errored`,
    cause: error,
    retryable: false,
  });
}

/**
 * The bytes of a put body, for stores that hold it in memory: a `Uint8Array` copied (later
 * changes by the caller do not leak in), a stream read whole and held to `contentLength`.
 */
export async function readPutBody(
  key: string,
  body: ObjectBody,
  options: { readonly contentLength?: number; readonly signal?: AbortSignal },
): Promise<Uint8Array> {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body.slice();
  const { contentLength, signal } = options;
  let bytes: Uint8Array;
  try {
    bytes = await readBodyStream(body, signal ? { signal } : {});
  } catch (error) {
    throw putStreamFailed(key, error, signal);
  }
  if (contentLength !== undefined && bytes.length !== contentLength) {
    throw contentLengthMismatch(contentLength, String(bytes.length));
  }
  // A fresh copy: the caller may reuse the chunks it enqueued.
  return bytes.slice();
}
