/**
 * SHA-256 from Node's crypto module, for request fingerprints in the Node adapters. It gives the
 * same digest as WebCrypto (the default), synchronously, without the thread-pool round trip
 * `crypto.subtle.digest` takes on every request.
 */
import { createHash } from 'node:crypto';

/** @internal */
export function nodeSha256(message: Uint8Array): Uint8Array {
  return createHash('sha256').update(message).digest();
}
