/**
 * A compressed keyed body, decoded before Fastify parses it. Fastify does not decode a request's
 * `Content-Encoding` itself: its JSON parser would refuse gzip bytes as bad JSON, and a body in
 * a coding nobody decodes would reach the route as if it were plain. The idempotency plugin
 * reads such a body here, within `maxBodyBytes` as sent and as inflated, so it is fingerprinted
 * decoded (the same JSON compressed or plain is one request) and the route gets it parsed, as
 * the Express adapter and the fetch middleware do.
 */
import { Readable } from 'node:stream';
import type { ContentCoding } from '@ballast/server/adapter-kit';
import { decodeNodeBody } from '../../node-http/decode-node-body.js';
import { type ReadableBody, readNodeBody } from '../../node-http/read-node-body.js';

/** The decoded body, and the stream Fastify's parser reads in place of the request's own. */
export interface DecodedPayload {
  readonly bytes: Buffer;
  /** Carries `receivedEncodedLength`, which Fastify checks against `Content-Length`. */
  readonly stream: Readable;
}

/**
 * Reads `payload` (sent in `coding`, not identity) within `maxBytes` and decodes it within
 * `maxBytes`: `PAYLOAD_TOO_LARGE` past either, `VALIDATION_FAILED` for bytes that do not decode.
 */
export async function decodedPayload(
  payload: ReadableBody,
  coding: ContentCoding,
  maxBytes: number,
  declaredLength: string | undefined,
): Promise<DecodedPayload> {
  const sent = await readNodeBody(payload, maxBytes, declaredLength);
  const bytes = await decodeNodeBody(sent, coding, maxBytes);
  // objectMode off: the parser reads bytes, as from the request itself.
  const stream = Object.assign(Readable.from([bytes], { objectMode: false }), {
    receivedEncodedLength: sent.length,
  });
  return { bytes, stream };
}
