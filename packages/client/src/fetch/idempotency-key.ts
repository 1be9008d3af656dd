/**
 * A fresh `Idempotency-Key` per write: a random UUID v4, so two tills (or two tabs) never
 * collide and a replay of the same write carries the same key.
 */

/** A random UUID v4 from the platform's CSPRNG (`crypto.randomUUID` where present). */
export function createIdempotencyKey(): string {
  const webCrypto = globalThis.crypto;
  if (typeof webCrypto.randomUUID === 'function') return webCrypto.randomUUID();
  // randomUUID is missing in insecure browser contexts (plain http on a LAN address). In the
  // template each 0 becomes a random hex digit and the 8 one of 8–b (variant 10xx); the 4 is
  // the version.
  const random = webCrypto.getRandomValues(new Uint8Array(31));
  let next = 0;
  return '00000000-0000-4000-8000-000000000000'.replace(/[08]/g, (digit) => {
    const fixed = Number(digit);
    return (fixed ^ ((random[next++] ?? 0) & (15 >> (fixed / 4)))).toString(16);
  });
}
