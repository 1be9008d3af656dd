/**
 * Base64 and hex without `Buffer`, so core runs unchanged in browsers, Deno and edge workers.
 * One module for every encoding core writes: signatures, digests, checksums, tokens. Strict
 * decoding (`decodeBase64`, `decodeHex`) refuses a value that is not canonical instead of
 * half-decoding it (`atob` alone skips whitespace, accepts missing padding and ignores non-zero
 * trailing bits); `fromBase64` is the lenient reader for tokens and checksums users type.
 */

/**
 * Canonical padded base64: the bits a final character carries beyond the data must be zero
 * (`[AQgw]==`, `[AEIMQUYcgkosw048]=`), so every byte string has exactly one accepted spelling and
 * a signature cannot be altered into another string that still verifies.
 */
const base64Pattern =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;
const hexPattern = /^(?:[0-9a-fA-F]{2})*$/;

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard, padded base64 of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  // A table walk: several times faster than `btoa(String.fromCharCode(...bytes))` for a 32-byte
  // MAC on the hot path, and no argument-count limit for a large body digest.
  let text = '';
  const whole = bytes.length - (bytes.length % 3);
  for (let index = 0; index < whole; index += 3) {
    const chunk =
      ((bytes[index] as number) << 16) |
      ((bytes[index + 1] as number) << 8) |
      (bytes[index + 2] as number);
    text +=
      alphabet[chunk >>> 18]! +
      alphabet[(chunk >>> 12) & 63]! +
      alphabet[(chunk >>> 6) & 63]! +
      alphabet[chunk & 63]!;
  }
  const rest = bytes.length - whole;
  if (rest === 1) {
    const chunk = (bytes[whole] as number) << 16;
    text += `${alphabet[chunk >>> 18]}${alphabet[(chunk >>> 12) & 63]}==`;
  } else if (rest === 2) {
    const chunk = ((bytes[whole] as number) << 16) | ((bytes[whole + 1] as number) << 8);
    text += `${alphabet[chunk >>> 18]}${alphabet[(chunk >>> 12) & 63]}${alphabet[(chunk >>> 6) & 63]}=`;
  }
  return text;
}

/** Bytes of padded standard base64, or `undefined` when `text` is not exactly that. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!base64Pattern.test(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/** URL-safe base64 without padding (RFC 4648 §5), for tokens carried in URLs and headers. */
export function toBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Decodes base64 or base64url, padded or not; `undefined` when `text` is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return undefined;
  const standard = text.replaceAll('-', '+').replaceAll('_', '/').replace(/=+$/, '');
  if (standard.length % 4 === 1) return undefined;
  const binary = atob(standard + '='.repeat((4 - (standard.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const hexByte = /* @__PURE__ */ Array.from({ length: 256 }, (_, byte) =>
  byte.toString(16).padStart(2, '0'),
);

/** Lowercase hex of `bytes`. */
export function encodeHex(bytes: Uint8Array): string {
  // A table lookup per byte: a request fingerprint is encoded on every keyed request.
  let hex = '';
  for (let index = 0; index < bytes.length; index++) hex += hexByte[bytes[index] as number];
  return hex;
}

/** Bytes of a hex string (either case), or `undefined` when `text` is not hex. */
export function decodeHex(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!hexPattern.test(text)) return undefined;
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = Number.parseInt(text.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}
