/**
 * Reading a web `Request`'s body exactly once, with a bound: the one reader of request bodies
 * for every `@ballast/server` middleware (idempotency, signature verification). The bytes are
 * read raw (no decoding, no JSON round trip), a declared `Content-Length` over the bound is
 * refused before anything is read, and a chunked body is counted as it arrives, so no body of
 * any framing gets past `maxBytes`.
 */
import { invalidArgument, payloadTooLarge, readBodyStream } from '@ballast/core/adapter-kit';
import { isObject } from '../options/is-object.js';

/**
 * The raw body of `request` (empty for a request without one). Throws `PAYLOAD_TOO_LARGE`
 * (413) when `content-length` or the bytes actually received exceed `maxBytes`, and
 * `INVALID_OPTIONS` for a request whose body was already read.
 *
 * @example
 * ```ts
 * const bytes = await readRequestBody(request, 1_048_576);
 * ```
 */
export async function readRequestBody(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!isObject(request) || !isObject(request.headers) || request.body === undefined) {
    throw invalidArgument('readRequestBody()', 'request', 'a Request');
  }
  if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) {
    throw invalidArgument('readRequestBody()', 'maxBytes', 'a number of bytes (0 or more)');
  }
  if (request.body === null) return new Uint8Array(0);
  // Read by someone else first (`request.json()`): its stream is locked, and reading it again
  // would fail with a bare TypeError from the stream.
  if (request.bodyUsed || request.body.locked) {
    throw invalidArgument('readRequestBody()', 'request', 'a Request whose body is not read yet');
  }
  const declared = request.headers.get('content-length');
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > maxBytes) {
    await request.body.cancel().catch(() => {
      // Nothing to recover: the stream is abandoned either way and the request refused.
    });
    throw payloadTooLarge(maxBytes);
  }
  return readBodyStream(request.body, { maxBytes });
}
