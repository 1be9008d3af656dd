/**
 * SHA-256 from Node's crypto module, for request fingerprints in the Node adapters. It gives the
 * same digest as WebCrypto (the default), synchronously, without the thread-pool round trip
 * `crypto.subtle.digest` takes on every request. The one-shot `hash()` with hex output skips
 * both the `Hash` object `createHash` builds and the digest buffer, which together cost more
 * than hashing a small body.
 */
import { hash } from 'node:crypto';

/** @internal The digest as 64 lower-case hex characters. */
export function nodeSha256(message: Uint8Array): string {
  return hash('sha256', message, 'hex');
}
