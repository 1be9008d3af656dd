/**
 * Reading a request body exactly once, with a bound. A signature covers the bytes as sent, so
 * they are read raw (no decoding, no JSON round trip), and a body larger than the bound is
 * refused as soon as it is known to be, before it fills memory.
 */
import { BallastError } from '@ballast/core';

function tooLarge(maxBytes: number): BallastError {
  return new BallastError('PAYLOAD_TOO_LARGE', {
    message: `The request body is larger than ${maxBytes} bytes`,
    details: { maxBytes },
  });
}

/**
 * The raw body of `request` (empty for a request without one). Throws `PAYLOAD_TOO_LARGE` when
 * `content-length` or the bytes actually received exceed `maxBytes`.
 *
 * @internal
 */
export async function readRequestBody(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (request.body === null) return new Uint8Array(0);
  const declared = request.headers.get('content-length');
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > maxBytes) {
    await request.body.cancel().catch(() => {
      // Nothing to recover: the stream is abandoned either way and the request refused.
    });
    throw tooLarge(maxBytes);
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {
        // As above: the request is refused whether or not the cancel succeeds.
      });
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const only = chunks.length === 1 ? chunks[0]! : undefined;
  // One chunk backed by a plain ArrayBuffer is used as is (the common case: no copy).
  if (only && only.buffer instanceof ArrayBuffer) return only as Uint8Array<ArrayBuffer>;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
