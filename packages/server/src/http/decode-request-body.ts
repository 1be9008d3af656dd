/**
 * Decoding a compressed request body on the web platform, with a bound on what it inflates to:
 * the fetch middleware's counterpart of the Node adapters' zlib decoder. `DecompressionStream`
 * runs in every runtime `@ballast/server` supports; it is read through the one bounded stream
 * reader, which cancels it as soon as the output passes `maxBytes`, so a few kilobytes that
 * inflate to gigabytes (a zip bomb) cost no more than `maxBytes` of memory before the 413.
 */
import { isBallastError } from '@ballast/core';
import { readBodyStream } from '@ballast/core/adapter-kit';
import {
  type ContentCoding,
  hasZlibHeader,
  requestContentCoding,
  undecodableBody,
  unsupportedContentCoding,
} from './content-coding.js';

/** The `DecompressionStream` format for `coding`, or undefined where the runtime has none. */
function decompressionFormat(coding: ContentCoding, bytes: Uint8Array): string | undefined {
  if (coding === 'gzip') return 'gzip';
  if (coding === 'deflate') return hasZlibHeader(bytes) ? 'deflate' : 'deflate-raw';
  try {
    // Brotli came to DecompressionStream late (not in Node 20): probed, not assumed.
    new DecompressionStream('brotli' as CompressionFormat);
    return 'brotli';
  } catch {
    return undefined;
  }
}

/**
 * The decoded bytes of a request body sent with `Content-Encoding: contentEncoding`: as they
 * are for identity; inflated for gzip, deflate (zlib-wrapped or raw) and br (where the runtime
 * decodes it). Throws `UNSUPPORTED_MEDIA_TYPE` (415) for another coding or several,
 * `PAYLOAD_TOO_LARGE` (413) once the output passes `maxBytes`, and `VALIDATION_FAILED` (400)
 * for bytes that do not decode.
 *
 * @example
 * ```ts
 * const sent = await readRequestBody(request, maxBytes);
 * const body = await decodeRequestBody(sent, request.headers.get('content-encoding'), maxBytes);
 * ```
 */
export async function decodeRequestBody(
  bytes: Uint8Array<ArrayBuffer>,
  contentEncoding: string | null | undefined,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const coding = requestContentCoding(contentEncoding);
  if (coding === 'identity' || bytes.length === 0) return bytes;
  const format = decompressionFormat(coding, bytes);
  if (format === undefined) throw unsupportedContentCoding('not-decoded-by-this-runtime');
  const decoder = new DecompressionStream(format as CompressionFormat);
  const decoded = new Blob([bytes]).stream().pipeThrough(decoder);
  try {
    return await readBodyStream(decoded, { maxBytes });
  } catch (error) {
    if (isBallastError(error, 'PAYLOAD_TOO_LARGE')) throw error;
    throw undecodableBody(coding, error);
  }
}
