/**
 * The content types every Ballast storage accepts in `put`: what an HTTP header can carry. A
 * content type often comes from the uploader (a browser's `file.type`), so one that cannot be
 * sent is the client's mistake (400), not the storage failing (S3's HTTP layer threw a
 * `TypeError` that read as a retryable outage and counted against the circuit breaker).
 */
import { BallastError } from '../errors/ballast-error.js';

/** Longest content type accepted, in characters (S3 limits all user headers to 2 KB). */
export const maxContentTypeLength = 1024;

/**
 * Throws `VALIDATION_FAILED` (400, field `contentType`) unless `contentType` is absent or a
 * header value of at most {@link maxContentTypeLength} characters without control characters;
 * `INVALID_OPTIONS` when it is not a string at all.
 *
 * @example
 * ```ts
 * assertContentType(options.contentType); // at the top of an ObjectStorage's put()
 * ```
 */
export function assertContentType(contentType: string | undefined): void {
  if (contentType === undefined) return;
  if (typeof contentType !== 'string') {
    // Not a value any client sends: the calling code passed something else.
    throw new BallastError('INVALID_OPTIONS', {
      message: 'Invalid options for put(): "contentType" must be a string',
      details: { field: 'contentType' },
    });
  }
  const problem =
    contentType.length > maxContentTypeLength
      ? `must be at most ${maxContentTypeLength} characters`
      : // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
        /[\u0000-\u001f\u007f]/.test(contentType)
        ? 'must not contain control characters'
        : undefined;
  if (problem === undefined) return;
  throw new BallastError('VALIDATION_FAILED', {
    message: `Invalid content type: ${problem}.`,
    details: { field: 'contentType' },
  });
}
