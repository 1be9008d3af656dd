/**
 * The JSON body of a request whose stream a Ballast middleware read itself (idempotency and
 * signature verification, mounted before `express.json()` as documented): the parser then skips
 * the spent stream, so what it would have done is done here — a leading byte order mark
 * dropped, and a body that is not JSON refused with 400 rather than handed to the route as bytes.
 */
import { BallastError } from '@ballast/core';

/** Parses `raw` as `express.json()` would; not JSON → `VALIDATION_FAILED` (400, `details.reason: 'not-json'`). */
export function parseJsonBody(raw: Uint8Array, message: string): unknown {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new BallastError('VALIDATION_FAILED', {
      message,
      details: { reason: 'not-json' },
      cause: error,
    });
  }
}
