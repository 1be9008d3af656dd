/**
 * Reading the `Idempotency-Key` request header. The IETF draft (draft-ietf-httpapi-idempotency-
 * key-header-06 §2) defines it as an Item Structured Header Field whose value is a String
 * (RFC 8941 §3.3.3: `"…"`, with `\"` and `\\` escapes); most clients in the wild send a bare
 * UUID instead, so an unquoted value is accepted too. Anything else is refused with 400 rather
 * than guessed at: two different readings of one header would be two different keys.
 */
import { BallastError, maxIdempotencyKeyLength, validateIdempotencyKey } from '@ballast/core';

/** The header's name, lower-case as `Headers` reports it. */
export const idempotencyKeyHeader = 'idempotency-key';

function malformed(message: string): BallastError {
  return new BallastError('IDEMPOTENCY_KEY_INVALID', {
    message: `Malformed Idempotency-Key header: ${message}.`,
    details: { reason: 'malformed' },
  });
}

const isLcAlpha = (c: string) => c >= 'a' && c <= 'z';
const isDigit = (c: string) => c >= '0' && c <= '9';
const isAlpha = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
// RFC 9110 tchar, plus ':' and '/', which RFC 8941 allows in a token.
const isTokenChar = (c: string) => /^[!#$%&'*+.^_`|~0-9A-Za-z:/-]$/.test(c);

/** A small cursor over the header value, following RFC 8941 §4.2's parsing algorithms. */
class Cursor {
  index = 0;
  constructor(readonly input: string) {}
  // Methods rather than getters, so the compiler does not narrow them across calls.
  char(): string {
    return this.input[this.index] ?? '';
  }
  done(): boolean {
    return this.index >= this.input.length;
  }
  skipSpaces(): void {
    while (this.char() === ' ') this.index++;
  }

  /** RFC 8941 §4.2.5: a String. */
  string(): string {
    if (this.char() !== '"') throw malformed('expected a quoted string');
    this.index++;
    let value = '';
    for (;;) {
      if (this.done()) throw malformed('unterminated string');
      const c = this.char();
      this.index++;
      if (c === '"') return value;
      if (c === '\\') {
        const escaped = this.char();
        if (escaped !== '"' && escaped !== '\\') throw malformed('bad escape in string');
        this.index++;
        value += escaped;
        continue;
      }
      const code = c.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) throw malformed('non-printable character in string');
      value += c;
    }
  }

  /** RFC 8941 §4.2.3.3 and §4.2.3.2: parameters, parsed only to be ignored (draft §2). */
  parameters(): void {
    while (this.char() === ';') {
      this.index++;
      this.skipSpaces();
      if (!isLcAlpha(this.char()) && this.char() !== '*') throw malformed('bad parameter name');
      while (
        !this.done() &&
        (isLcAlpha(this.char()) || isDigit(this.char()) || '_-.*'.includes(this.char()))
      ) {
        this.index++;
      }
      if (this.char() === '=') {
        this.index++;
        this.bareItem();
      }
    }
  }

  /** RFC 8941 §4.2.3.1: a bare item (string, token, number, boolean or byte sequence). */
  bareItem(): void {
    const c = this.char();
    if (c === '"') {
      this.string();
    } else if (c === '-' || isDigit(c)) {
      this.index++;
      while (isDigit(this.char()) || this.char() === '.') this.index++;
    } else if (c === '?') {
      this.index++;
      if (this.char() !== '0' && this.char() !== '1') throw malformed('bad boolean');
      this.index++;
    } else if (c === ':') {
      const end = this.input.indexOf(':', this.index + 1);
      if (end < 0 || !/^[A-Za-z0-9+/=]*$/.test(this.input.slice(this.index + 1, end))) {
        throw malformed('bad byte sequence');
      }
      this.index = end + 1;
    } else if (isAlpha(c) || c === '*') {
      this.index++;
      while (!this.done() && isTokenChar(this.char())) this.index++;
    } else {
      throw malformed('bad parameter value');
    }
  }
}

/**
 * The common shape, a quoted valid key without escapes, parameters or spaces around it, read
 * without a cursor; `undefined` for anything else, which the full parser then handles.
 */
function simpleQuotedKey(value: string): string | undefined {
  const last = value.length - 1;
  // At least one character between the quotes, and no more than a key may have.
  if (last < 2 || last > maxIdempotencyKeyLength + 1) return undefined;
  if (value.charCodeAt(0) !== 0x22 || value.charCodeAt(last) !== 0x22) return undefined;
  for (let index = 1; index < last; index++) {
    const code = value.charCodeAt(index);
    // Printable ASCII except `"` and `\`.
    if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) return undefined;
  }
  return value.slice(1, last);
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
  const simple = simpleQuotedKey(headerValue);
  if (simple !== undefined) return simple;
  const value = headerValue.replace(/^ +| +$/g, '');
  if (value.length === 0) {
    throw new BallastError('IDEMPOTENCY_KEY_INVALID', {
      message: 'Empty Idempotency-Key header.',
      details: { reason: 'empty' },
    });
  }
  if (value.startsWith('"')) {
    const cursor = new Cursor(value);
    const key = cursor.string();
    cursor.parameters();
    if (!cursor.done()) throw malformed('unexpected characters after the key');
    return validateIdempotencyKey(key);
  }
  if (!bareKey.test(value)) throw malformed('expected a quoted string or a bare token');
  return validateIdempotencyKey(value);
}
