/**
 * Decoding a compressed request body in Node, with a bound on what it inflates to: the Express
 * and Fastify adapters' counterpart of `decodeRequestBody` in `@ballast/server` (zlib here, for
 * br on every Node version). Which codings are decoded, and the 415 for the rest, is the
 * server's `requestContentCoding`. zlib's `maxOutputLength` stops inflating as soon as the
 * output passes `maxBytes`, so a few kilobytes that inflate to gigabytes (a zip bomb) cost no
 * more than `maxBytes` of memory before the 413.
 */
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';
import { payloadTooLarge } from '@ballast/core/adapter-kit';
import { type ContentCoding, hasZlibHeader, undecodableBody } from '@ballast/server/adapter-kit';

type Decode = (bytes: Buffer, options: ZlibOptions) => Promise<Buffer>;

const decoders = {
  gzip: promisify(gunzip) as Decode,
  deflate: promisify(inflate) as Decode,
  deflateRaw: promisify(inflateRaw) as Decode,
  br: promisify(brotliDecompress) as Decode,
};

/**
 * The decoded bytes of `bytes`, sent in `coding`: as they are for identity (or no bytes);
 * inflated for gzip, deflate (zlib-wrapped or raw) and br. Rejects with `PAYLOAD_TOO_LARGE`
 * (413) once the output passes `maxBytes` and `VALIDATION_FAILED` (400) for bytes that do not
 * decode.
 *
 * @internal
 */
export async function decodeNodeBody(
  bytes: Buffer,
  coding: ContentCoding,
  maxBytes: number,
): Promise<Buffer> {
  if (coding === 'identity' || bytes.length === 0) return bytes;
  const decode =
    coding === 'deflate' && !hasZlibHeader(bytes) ? decoders.deflateRaw : decoders[coding];
  let decoded: Buffer;
  try {
    // maxOutputLength must be at least 1; a limit of 0 is then held just below.
    decoded = await decode(bytes, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw payloadTooLarge(maxBytes);
    }
    throw undecodableBody(coding, error);
  }
  if (decoded.length > maxBytes) throw payloadTooLarge(maxBytes);
  return decoded;
}
