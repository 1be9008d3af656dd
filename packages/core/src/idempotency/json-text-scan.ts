/**
 * One linear pass over a JSON text, before anything parses it: it refuses nesting deeper than
 * the limit (a 400, never a stack overflow), finds number literals a double cannot hold exactly
 * (only the text keeps their value), and recognises a text that already is in canonical form
 * (compact, members in order, numbers and strings as `JSON.stringify` writes them), which is its
 * own canonical form: most clients send such bodies, and reusing the text spares serialising the
 * parsed value again on every keyed request.
 */
import { BallastError } from '../errors/ballast-error.js';

/** `VALIDATION_FAILED` (400) for a JSON body nested deeper than `maxDepth`. */
export function tooDeep(maxDepth: number): BallastError {
  return new BallastError('VALIDATION_FAILED', {
    message: `The JSON body is nested deeper than ${maxDepth} levels.`,
    details: { reason: 'too-deep', maxDepth },
  });
}

/**
 * What the pass found in a JSON text:
 * - `inexact`: a number literal a double cannot hold exactly;
 * - `canonical`: no such literal, and the text is in canonical form: as a JSON text it equals
 *   `canonicalJson(JSON.parse(text))`;
 * - `exact`: neither.
 */
export type JsonTextShape = 'canonical' | 'exact' | 'inexact';

// Where each open object's last member name starts and ends in the text, and which open
// containers are objects, by depth. Kept between passes (a pass never runs inside another), so a
// pass allocates nothing.
const nameStarts: number[] = [];
const nameEnds: number[] = [];
const isObject: boolean[] = [];

/**
 * One pass over `text`: throws `VALIDATION_FAILED` when it nests deeper than `maxDepth`,
 * answers `undefined` when its brackets do not balance (not JSON; JSON.parse finds every other
 * syntax error), else its {@link JsonTextShape}. Only meaningful for text that is JSON.
 */
export function scanJsonText(text: string, maxDepth: number): JsonTextShape | undefined {
  let depth = 0;
  let inexact = false;
  let canonical = true;
  // True where the next string is a member name: after `{`, or after `,` inside an object.
  let nameNext = false;
  const length = text.length;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      // A string: skip to its closing quote, stepping over escapes. JSON.stringify writes a
      // string without escapes unless it holds a quote, a backslash, a control character or a
      // lone surrogate, so any escape (or surrogate) makes the text not canonical.
      const start = index + 1;
      for (index++; index < length; index++) {
        const inner = text.charCodeAt(index);
        if (inner === 0x5c) {
          canonical = false;
          index++;
        } else if (inner === 0x22) break;
        else if (inner < 0x20 || (inner >= 0xd800 && inner <= 0xdfff)) canonical = false;
      }
      if (nameNext) {
        nameNext = false;
        if (canonical) canonical = isNextMemberName(text, start, index, depth);
      }
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > maxDepth) throw tooDeep(maxDepth);
      nameNext = code === 0x7b;
      if (canonical) {
        isObject[depth] = nameNext;
        nameStarts[depth] = -1;
      }
    } else if (code === 0x7d || code === 0x5d) {
      if (--depth < 0) return undefined;
      nameNext = false;
    } else if (code === 0x2c) {
      nameNext = canonical && isObject[depth] === true;
    } else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      const start = index;
      while (index + 1 < length && isNumberChar(text.charCodeAt(index + 1))) index++;
      // Up to 15 significant digits without an exponent always survive a double (DBL_DIG).
      if (!inexact && (index - start >= 15 || hasExponent(text, start, index))) {
        inexact = !survivesDouble(text.slice(start, index + 1));
      }
      if (canonical) canonical = isCanonicalInteger(text, start, index);
    } else if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d || code >= 0x80) {
      // Whitespace, or a character JSON has no place for outside strings: a byte order mark,
      // which a framework's parser drops (Fastify's does) before the value this text stands for.
      canonical = false;
    }
  }
  if (depth !== 0) return undefined;
  return inexact ? 'inexact' : canonical ? 'canonical' : 'exact';
}

/**
 * True when the member name at `text[start, end)` (without escapes) comes strictly after the
 * previous name of the object open at `depth`, in UTF-16 code unit order: members in canonical
 * order, and no name twice (JSON.parse keeps the last of two, so the text would not be the
 * canonical form of what it parses to). `__proto__` and `constructor` are never taken as
 * canonical: a framework's parser may drop them (Fastify's, configured to), and the parsed value
 * then decides.
 */
function isNextMemberName(text: string, start: number, end: number, depth: number): boolean {
  const nameLength = end - start;
  if (
    (nameLength === 9 && text.startsWith('__proto__', start)) ||
    (nameLength === 11 && text.startsWith('constructor', start))
  ) {
    return false;
  }
  const previousStart = nameStarts[depth] as number;
  const previousLength = (nameEnds[depth] as number) - previousStart;
  nameStarts[depth] = start;
  nameEnds[depth] = end;
  if (previousStart < 0) return true;
  const common = Math.min(previousLength, nameLength);
  for (let offset = 0; offset < common; offset++) {
    const previous = text.charCodeAt(previousStart + offset);
    const current = text.charCodeAt(start + offset);
    if (previous !== current) return previous < current;
  }
  return previousLength < nameLength;
}

/**
 * True for an integer literal as JSON.stringify writes it: no fraction, exponent or leading
 * zero, not `-0`, and at most 15 digits (so its double prints back the same digits). Other
 * numbers send the text down the general path, which canonicalises the parsed value.
 */
function isCanonicalInteger(text: string, start: number, end: number): boolean {
  const negative = text.charCodeAt(start) === 0x2d;
  const first = negative ? start + 1 : start;
  const digits = end - first + 1;
  if (digits < 1 || digits > 15) return false;
  if (text.charCodeAt(first) === 0x30) return digits === 1 && !negative;
  for (let index = first; index <= end; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** True for a character of a JSON number literal: digits, `.`, `e`, `E`, `+`, `-`. */
export function isNumberChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2e ||
    code === 0x65 ||
    code === 0x45 ||
    code === 0x2b ||
    code === 0x2d
  );
}

function hasExponent(text: string, start: number, end: number): boolean {
  for (let index = start; index <= end; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x65 || code === 0x45) return true;
  }
  return false;
}

/** A JSON number literal. */
export const jsonNumber = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * The exact decimal value of a JSON number literal as sign, significant digits and the position
 * of the decimal point (`-0.12e3` → `-12e1`…): `-` + digits + `e` + point.
 */
export function exactDecimal(literal: string): string {
  const negative = literal.charCodeAt(0) === 0x2d;
  const unsigned = negative ? literal.slice(1) : literal;
  const exponentAt = unsigned.search(/[eE]/);
  const mantissa = exponentAt < 0 ? unsigned : unsigned.slice(0, exponentAt);
  const exponent = exponentAt < 0 ? 0 : Number(unsigned.slice(exponentAt + 1));
  const pointAt = mantissa.indexOf('.');
  const whole = pointAt < 0 ? mantissa : mantissa.slice(0, pointAt);
  const fraction = pointAt < 0 ? '' : mantissa.slice(pointAt + 1);
  let digits = whole + fraction;
  let point = whole.length + exponent;
  let first = 0;
  while (first < digits.length && digits.charCodeAt(first) === 0x30) first++;
  point -= first;
  digits = digits.slice(first).replace(/0+$/, '');
  if (digits.length === 0) return '0';
  return `${negative ? '-' : ''}0.${digits}e${point}`;
}

/** True when the literal's value is exactly what the nearest double prints as. */
export function survivesDouble(literal: string): boolean {
  if (!jsonNumber.test(literal)) return true; // Not a number: JSON.parse will refuse it.
  const value = Number(literal);
  if (!Number.isFinite(value)) return false;
  return exactDecimal(literal) === exactDecimal(String(value));
}
