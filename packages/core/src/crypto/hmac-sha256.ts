/**
 * HMAC-SHA256 for everything in core that signs: request signatures, upload tokens, local
 * presigned URLs. Native `node:crypto` on Node (synchronous, no thread-pool round trip per call),
 * WebCrypto elsewhere with the key imported once; both give the same bytes. Verification
 * compares in constant time, so a forger cannot learn a valid MAC byte by byte from timings.
 * Internal: not re-exported.
 */

import { nativeCrypto } from './native-crypto.js';
import { timingSafeEqual } from './timing-safe-equal.js';

/** A secret ready to sign and verify with. */
export interface HmacSha256Key {
  sign(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
  /** True when `mac` is the MAC of `data`; constant time for MACs of the right length. */
  verify(mac: Uint8Array, data: Uint8Array<ArrayBuffer>): Promise<boolean>;
}

/** HMAC-SHA256 through WebCrypto: the path browsers, Deno and Workers take. */
export function webCryptoHmacSha256Key(secret: Uint8Array<ArrayBuffer>): HmacSha256Key {
  let imported: Promise<CryptoKey> | undefined;
  const sign = async (data: Uint8Array<ArrayBuffer>) => {
    imported ??= crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    return new Uint8Array(await crypto.subtle.sign('HMAC', await imported, data));
  };
  return { sign, verify: async (mac, data) => timingSafeEqual(await sign(data), mac) };
}

/** An HMAC-SHA256 key over `secret`: native on Node, WebCrypto elsewhere. */
export function hmacSha256Key(secret: Uint8Array<ArrayBuffer>): HmacSha256Key {
  const { createHmac } = nativeCrypto;
  if (!createHmac) return webCryptoHmacSha256Key(secret);
  const sign = async (data: Uint8Array<ArrayBuffer>) =>
    createHmac('sha256', secret).update(data).digest();
  return { sign, verify: async (mac, data) => timingSafeEqual(await sign(data), mac) };
}
