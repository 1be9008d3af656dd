/**
 * Owner tokens fence a claim: only the holder that presents its token may record or release the
 * key. They must be unique across every process sharing a store, not secret (no client ever
 * sees one). A random 128-bit prefix per process with a counter behind it is unique by the same
 * argument as a UUID, and costs a string concatenation per claim instead of a random draw.
 */
import { toBase64Url } from '../crypto/byte-encoding.js';

/**
 * A source of owner tokens: `<22 random base64url characters>.<counter in base 36>`.
 *
 * @internal
 */
export function createOwnerTokenSource(): () => string {
  // Joined with its dot once, into one flat string (join writes one; `+` would keep two pieces):
  // each token is then a single concatenation.
  const prefix = [toBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(16))), '.'].join('');
  let counter = 0;
  return () => prefix + (counter++).toString(36);
}
