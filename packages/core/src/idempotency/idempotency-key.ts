/**
 * What counts as an idempotency key. The IETF draft "The Idempotency-Key HTTP Header Field"
 * leaves the format to the server; Ballast accepts 1–255 printable ASCII characters, which
 * covers UUIDs, ULIDs and every client library's format, and rejects what could smuggle control
 * characters into logs, headers or SQL.
 */
import { BallastError } from '../errors/ballast-error.js';

/** Longest key accepted, in characters. */
export const maxIdempotencyKeyLength = 255;

/** Scope used when a caller gives none. Every store and mode uses this same default. */
export const defaultIdempotencyScope = 'global';

// 1–255 printable ASCII characters (space to `~`): what invalidKeyReason accepts.
const validKey = /^[\x20-\x7e]{1,255}$/;
let lastValidKey = '';

/** Why a key was refused, in `details.reason` of `IDEMPOTENCY_KEY_INVALID`. */
export type InvalidKeyReason = 'empty' | 'too-long' | 'not-printable';

function invalidKeyReason(key: string): InvalidKeyReason | undefined {
  if (key.length === 0) return 'empty';
  if (key.length > maxIdempotencyKeyLength) return 'too-long';
  for (let index = 0; index < key.length; index++) {
    const code = key.charCodeAt(index);
    if (code < 0x20 || code > 0x7e) return 'not-printable';
  }
  return undefined;
}

// NUL, which Postgres refuses in text (the statement fails, and with it every claim batched
// alongside), or an unpaired surrogate, which every UTF-8 store turns into U+FFFD (so two such
// scopes would share keys). With the `u` flag a surrogate pair is one code point, so `\p{Cs}`
// matches only an unpaired half.
const unpairedSurrogate = /\p{Cs}/u;

/**
 * True when every idempotency store keeps `text` exactly as given: no NUL character and no
 * unpaired UTF-16 surrogate (false for anything but a string). Scopes and fingerprints are checked with it before any claim.
 */
export function isStorableText(text: string): boolean {
  return typeof text === 'string' && !text.includes('\u0000') && !unpairedSurrogate.test(text);
}

/**
 * Checks an idempotency key: non-empty, at most 255 characters, printable ASCII (space to `~`).
 * Returns the key unchanged; throws `BallastError('IDEMPOTENCY_KEY_INVALID')` (400) with
 * `details.reason` otherwise.
 *
 * @example
 * ```ts
 * validateIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324'); // returns the key
 * validateIdempotencyKey(''); // throws IDEMPOTENCY_KEY_INVALID, details.reason 'empty'
 * ```
 */
export function validateIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string') {
    throw new BallastError('IDEMPOTENCY_KEY_INVALID', {
      message: 'The idempotency key must be a string.',
      details: { reason: 'not-printable' satisfies InvalidKeyReason },
    });
  }
  // The key checked last is usually this one: the header reader checks a key, then the engine
  // checks it again before the claim. Otherwise one regular expression test accepts the usual
  // valid key, and the loop below says why any other fails.
  if (key === lastValidKey) return key;
  if (validKey.test(key)) {
    lastValidKey = key;
    return key;
  }
  const reason = invalidKeyReason(key);
  if (reason === undefined) return key;
  throw new BallastError('IDEMPOTENCY_KEY_INVALID', {
    message: `Invalid idempotency key: ${reason} (1–${maxIdempotencyKeyLength} printable ASCII characters expected).`,
    details: { reason, maxLength: maxIdempotencyKeyLength },
  });
}
