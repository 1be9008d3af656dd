/**
 * SHA-256 checksums of stored objects, in S3's form (base64) whichever form a client sent.
 */
import { decodeHex, encodeBase64, fromBase64 } from '../crypto/byte-encoding.js';

/** SHA-256 of `bytes` through WebCrypto. */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/**
 * Normalises a SHA-256 checksum given as base64 (44 characters, S3's form) or hex (64
 * characters) to base64; `undefined` when it is neither.
 */
export function normaliseSha256(checksum: string): string | undefined {
  const bytes = checksum.length === 64 ? decodeHex(checksum) : fromBase64(checksum);
  return bytes?.length === 32 ? encodeBase64(bytes) : undefined;
}
