/**
 * A fresh `Idempotency-Key` per write: a random UUID v4, so two tills (or two tabs) never
 * collide and a replay of the same write carries the same key.
 */

/** A random UUID v4 from the platform's CSPRNG (`crypto.randomUUID` where present). */
export function createIdempotencyKey(): string {
  const webCrypto = globalThis.crypto;
  if (typeof webCrypto?.randomUUID === 'function') return webCrypto.randomUUID();
  // randomUUID is missing in insecure browser contexts (plain http on a LAN address); a blob
  // URL is not: the File API ends each one with a fresh random UUID v4 ("blob:<origin>/<uuid>").
  const url = URL.createObjectURL(new Blob());
  URL.revokeObjectURL(url);
  return url.slice(-36);
}
