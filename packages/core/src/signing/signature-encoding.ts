/**
 * Base64 and hex without `Buffer`, so the signing module runs unchanged in browsers, Deno and
 * edge workers. Decoding is strict: a value that is not canonical base64 or hex is refused
 * instead of being half-decoded (`atob` alone skips whitespace, accepts missing padding and
 * ignores non-zero trailing bits).
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

/** Lowercase hex of `bytes`. */
export function encodeHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
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
