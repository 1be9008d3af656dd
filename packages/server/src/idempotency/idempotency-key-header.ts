/**
 * Reading the `Idempotency-Key` request header. The IETF draft (draft-ietf-httpapi-idempotency-
 * key-header-06 §2) defines it as an Item Structured Header Field whose value is a String
 * (RFC 9651 §3.3.3: `"…"`, with `\"` and `\\` escapes); most clients in the wild send a bare
 * UUID instead, so an unquoted value is accepted too. Anything else is refused with 400 rather
 * than guessed at: two different readings of one header would be two different keys.
 *
 * The value is bounded before it is parsed and parsed in one linear pass (the `structured-headers`
 * package, RFC 9651), so a hostile header costs microseconds, not the route's time. Every Ballast
 * layer (the middleware, the Express and Fastify adapters, `withIdempotency()`) reads keys through
 * {@link parseIdempotencyKey}, so `"abc"` and `abc` are one key everywhere.
 */
import { BallastError, maxIdempotencyKeyLength, validateIdempotencyKey } from '@ballast/core';
import { parseItem } from 'structured-headers';

/** The header's name, lower-case as `Headers` reports it. */
export const idempotencyKeyHeader = 'idempotency-key';

/**
 * Longest `Idempotency-Key` header value read, in characters: a 255-character key with every
 * character escaped, plus room for parameters. Longer values are refused unread.
 */
export const maxIdempotencyKeyHeaderLength = 1024;

function malformed(message: string): BallastError {
  return new BallastError('IDEMPOTENCY_KEY_INVALID', {
    message: `Malformed Idempotency-Key header: ${message}.`,
    details: { reason: 'malformed' },
  });
}

/**
 * The key of a header in the common shape, a valid key quoted without escapes, parameters or
 * spaces around it (`"8e03978e-…"`); `undefined` for anything else, which the full parser reads.
 */
function simpleQuotedKey(value: string): string | undefined {
  const last = value.length - 1;
  if (last < 1 || value.charCodeAt(0) !== 0x22 || value.charCodeAt(last) !== 0x22) {
    return undefined;
  }
  // No other quote and no escape inside: found by two searches, not a look at each character.
  if (value.indexOf('"', 1) !== last || value.includes('\\')) return undefined;
  try {
    return validateIdempotencyKey(value.slice(1, last));
  } catch {
    // Not a valid key: the full parser finds out why and says so in its own words.
    return undefined;
  }
}

// A bare (unquoted) key: visible ASCII without the characters that would make it ambiguous
// (quotes, escapes, list and parameter separators, spaces).
const bareKey = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/;

/**
 * The key carried by an `Idempotency-Key` header value: a Structured-Field String (`"abc"`, with
 * parameters ignored) or, for compatibility, a bare value (`8e03978e-40d5-…`). Throws
 * `BallastError('IDEMPOTENCY_KEY_INVALID')` (400) when the value is malformed, empty, longer
 * than 255 characters or not printable ASCII; `details.reason` says which.
 *
 * @example
 * ```ts
 * parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"'); // '8e03978e-40d5-…'
 * parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324');   // the same key
 * parseIdempotencyKey('"a", "b"'); // throws: two values
 * ```
 */
export function parseIdempotencyKey(headerValue: string): string {
  // Not a string (a caller's bug, or a header given as a list): the key check says why.
  if (typeof headerValue !== 'string') return validateIdempotencyKey(headerValue);
  const simple = simpleQuotedKey(headerValue);
  if (simple !== undefined) return simple;
  if (headerValue.length > maxIdempotencyKeyHeaderLength) {
    throw new BallastError('IDEMPOTENCY_KEY_INVALID', {
      message: `Idempotency-Key header longer than ${maxIdempotencyKeyHeaderLength} characters.`,
      details: { reason: 'too-long', maxLength: maxIdempotencyKeyLength },
    });
  }
  const value = trimSpaces(headerValue);
  if (value.length === 0) {
    throw new BallastError('IDEMPOTENCY_KEY_INVALID', {
      message: 'Empty Idempotency-Key header.',
      details: { reason: 'empty' },
    });
  }
  if (value.charCodeAt(0) === 0x22) {
    let item: ReturnType<typeof parseItem>;
    try {
      item = parseItem(value);
    } catch {
      // The package's message names an offset in the header; the client gets a stable one.
      throw malformed('not a Structured Field string');
    }
    // Parameters are allowed and ignored (draft §2).
    if (typeof item[0] !== 'string') throw malformed('expected a quoted string');
    return validateIdempotencyKey(item[0]);
  }
  if (!bareKey.test(value)) throw malformed('expected a quoted string or a bare token');
  return validateIdempotencyKey(value);
}

/** The value without leading and trailing spaces (RFC 9651 §4.2), in one linear pass. */
function trimSpaces(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value.charCodeAt(start) === 0x20) start++;
  while (end > start && value.charCodeAt(end - 1) === 0x20) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}
