/**
 * A fresh `Idempotency-Key` per write: a random UUID v4, so two tills (or two tabs) never
 * collide and a replay of the same write carries the same key.
 */

/** A random UUID v4 from the platform's CSPRNG (`crypto.randomUUID` where present). */
export function createIdempotencyKey(): string {
  const webCrypto = globalThis.crypto;
  if (typeof webCrypto.randomUUID === 'function') return webCrypto.randomUUID();
  // randomUUID is missing in insecure browser contexts (plain http on a LAN address).
  const bytes = webCrypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
