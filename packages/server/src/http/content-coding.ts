/**
 * Which request `Content-Encoding`s Ballast decodes before it fingerprints, verifies or hands on
 * a body: the three `express.json()` inflates (gzip, deflate, br) and identity. Anything else,
 * and several codings stacked, is refused with 415 as body-parser refuses it, so a body Ballast
 * cannot read is never fingerprinted as opaque bytes nor handed to a route still compressed.
 */
import { BallastError } from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';

/** A request content coding Ballast decodes. */
export type ContentCoding = 'identity' | 'gzip' | 'deflate' | 'br';

const decoded: ReadonlySet<string> = new Set(['identity', 'gzip', 'deflate', 'br']);

/**
 * The coding a request's `Content-Encoding` header names (case-insensitive; absent or empty is
 * `identity`). Throws `UNSUPPORTED_MEDIA_TYPE` (415) for any other coding and for a list of
 * several (`gzip, br`), repeated headers included.
 *
 * @example
 * ```ts
 * const coding = requestContentCoding(request.headers.get('content-encoding'));
 * ```
 */
export function requestContentCoding(
  header: string | readonly string[] | null | undefined,
): ContentCoding {
  const listed = Array.isArray(header) && header.every((value) => typeof value === 'string');
  if (!(typeof header === 'string' || header === null || header === undefined || listed)) {
    throw invalidArgument('requestContentCoding()', 'header', 'a header value (string or list)');
  }
  const value = (typeof header === 'string' ? header : (header ?? []).join(','))
    .trim()
    .toLowerCase();
  if (value === '') return 'identity';
  if (decoded.has(value)) return value as ContentCoding;
  throw unsupportedContentCoding(
    value.includes(',') ? 'several-content-codings' : 'unsupported-content-coding',
  );
}

/**
 * The 415 `UNSUPPORTED_MEDIA_TYPE` for a body in a coding this server does not decode, with
 * `details.reason` (`'unsupported-content-coding'`, `'several-content-codings'`, or
 * `'not-decoded-by-this-runtime'`).
 */
export function unsupportedContentCoding(reason: string): BallastError {
  return new BallastError('UNSUPPORTED_MEDIA_TYPE', {
    message: 'The request body uses a content coding this server does not decode',
    details: { reason },
  });
}

/**
 * The error for a body whose bytes do not decode in the coding it names (corrupt or cut short):
 * the client's input, 400 `VALIDATION_FAILED` with `details.reason: 'not-decodable'`.
 */
export function undecodableBody(coding: ContentCoding, cause: unknown): BallastError {
  return new BallastError('VALIDATION_FAILED', {
    message: `The request body is not valid ${coding} data`,
    details: { reason: 'not-decodable' },
    cause,
  });
}

/**
 * True when `bytes` open with a zlib header (RFC 1950), so `deflate` is zlib-wrapped as the
 * standard says; otherwise it is raw deflate (RFC 1951), which some clients send instead.
 */
export function hasZlibHeader(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('hasZlibHeader()', 'bytes', 'bytes');
  if (bytes.length < 2) return false;
  const [first, second] = [bytes[0]!, bytes[1]!];
  return (first & 0x0f) === 8 && ((first << 8) | second) % 31 === 0;
}
