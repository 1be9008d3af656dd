/**
 * One text for one JSON value. Two clients that send the same object with keys in another order,
 * or with other whitespace, send the same request; a fingerprint over this form says so, while
 * any change of a value (including its type: `1` versus `"1"`, `null` versus a missing member)
 * changes the text. The form follows RFC 8785 (JCS): members sorted by UTF-16 code units,
 * numbers and strings as ECMAScript's `JSON.stringify` writes them.
 *
 * Two guards keep a hostile body from breaking it: nesting is bounded (`maxDepth`, 256 levels by
 * default; deeper is a 400 `VALIDATION_FAILED`, never a stack overflow), and a body given as text
 * keeps every number literal a double cannot hold exactly (`9007199254740993`, `1e400`) as its
 * exact decimal value, so two bodies that differ in any value never share one canonical text.
 */
import { BallastError } from '../errors/ballast-error.js';

// Thrown from deep inside the walk and turned into the public error at the top, which knows the
// limit; one preallocated value, so the walk carries only the depth left, not the limit too.
const depthExceeded = /* @__PURE__ */ new Error('depth exceeded');

/** Deepest nesting of arrays and objects canonicalised by default. */
export const defaultMaxJsonDepth = 256;

function tooDeep(maxDepth: number): BallastError {
  return new BallastError('VALIDATION_FAILED', {
    message: `The JSON body is nested deeper than ${maxDepth} levels.`,
    details: { reason: 'too-deep', maxDepth },
  });
}

/**
 * Serialises `value` canonically, with `JSON.stringify`'s own rules for what is not JSON:
 * `toJSON()` is honoured, `undefined`, functions and symbols are dropped from objects and become
 * `null` in arrays, non-finite numbers become `null`. A `bigint` throws, as in `JSON.stringify`.
 */
export function canonicalJson(value: unknown, maxDepth: number = defaultMaxJsonDepth): string {
  try {
    // Most bodies are plain JSON whose members are already in order; JSON.stringify writes
    // those exactly as the canonical form, natively and without sorting anything.
    if (isInCanonicalOrder(value, maxDepth)) return JSON.stringify(value) ?? 'null';
    return write(value, '', maxDepth) ?? 'null';
  } catch (error) {
    if (error === depthExceeded) throw tooDeep(maxDepth);
    throw error;
  }
}

/**
 * True when `JSON.stringify(value)` already is the canonical form: plain objects and arrays of
 * primitives whose member names come in sorted order at every level. Anything with a `toJSON`,
 * a boxed primitive or a bigint takes the general path, which handles them.
 */
function isInCanonicalOrder(value: unknown, depthLeft: number): boolean {
  if (typeof value !== 'object' || value === null) return typeof value !== 'bigint';
  if (depthLeft === 0) throw depthExceeded;
  // A toJSON decides what is written, in whatever order it likes.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (!isInCanonicalOrder(value[index], depthLeft - 1)) return false;
    }
    return true;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  const names = Object.keys(value);
  for (let index = 0; index < names.length; index++) {
    const name = names[index] as string;
    // `<` compares UTF-16 code units, the order RFC 8785 asks for.
    if (index > 0 && !((names[index - 1] as string) < name)) return false;
    if (!isInCanonicalOrder((value as Record<string, unknown>)[name], depthLeft - 1)) return false;
  }
  return true;
}

function write(value: unknown, key: string, depthLeft: number): string | undefined {
  let current = value;
  if (
    typeof current === 'object' &&
    current !== null &&
    typeof (current as { toJSON?: unknown }).toJSON === 'function'
  ) {
    current = (current as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  // Boxed primitives serialise as their value, as in JSON.stringify.
  if (current instanceof Number || current instanceof String || current instanceof Boolean) {
    current = current.valueOf();
  }
  switch (typeof current) {
    case 'string':
      return JSON.stringify(current);
    case 'number':
      return Number.isFinite(current) ? JSON.stringify(current) : 'null';
    case 'boolean':
      return current ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('A bigint has no JSON form; convert it to a string or number first.');
    case 'object':
      if (current === null) return 'null';
      if (depthLeft === 0) throw depthExceeded;
      if (Array.isArray(current)) return writeArray(current, depthLeft - 1);
      return writeObject(current as Record<string, unknown>, depthLeft - 1);
    default:
      // undefined, function, symbol: no JSON form.
      return undefined;
  }
}

// Loops and string concatenation rather than map/join: this runs on every keyed request.
function writeArray(array: readonly unknown[], depthLeft: number): string {
  let text = '[';
  for (let index = 0; index < array.length; index++) {
    if (index > 0) text += ',';
    text += write(array[index], String(index), depthLeft) ?? 'null';
  }
  return `${text}]`;
}

function writeObject(object: Record<string, unknown>, depthLeft: number): string {
  let text = '{';
  let first = true;
  // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
  const names = Object.keys(object).sort();
  for (let index = 0; index < names.length; index++) {
    const name = names[index] as string;
    const member = write(object[name], name, depthLeft);
    if (member === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(name)}:${member}`;
    first = false;
  }
  return `${text}}`;
}

/**
 * The canonical form of a JSON text, or `undefined` when `text` is not JSON. Equal to
 * `canonicalJson(JSON.parse(text))` except for number literals a double does not hold exactly
 * (`9007199254740993`, `1e400`, `0.1000000000000000000001`): those are written as their exact
 * decimal value (`0.9007199254740993e16`), a form `JSON.stringify` never produces, so they
 * neither collide with each other nor with the number a parser would have rounded them to.
 * Nesting deeper than `maxDepth` throws `VALIDATION_FAILED` before anything is parsed.
 */
export function canonicalJsonText(
  text: string,
  maxDepth: number = defaultMaxJsonDepth,
): string | undefined {
  const inexact = scanJsonText(text, maxDepth);
  if (inexact === undefined) return undefined;
  if (!inexact) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    return canonicalJson(value, maxDepth);
  }
  try {
    const parser = new ExactJsonParser(text);
    const canonical = parser.value();
    parser.skipSpace();
    return parser.done() ? canonical : undefined;
  } catch (error) {
    if (error === notJson) return undefined;
    throw error;
  }
}

/**
 * The canonical form of a JSON body a framework already parsed into `value` from `text`: the
 * parsed value is used (no second parse) unless the text holds a number literal a double cannot
 * hold, which only the text has exactly. `value` must be what `JSON.parse(text)` returns.
 */
export function canonicalJsonParsedFrom(
  value: unknown,
  text: string,
  maxDepth: number = defaultMaxJsonDepth,
): string {
  if (scanJsonText(text, maxDepth) === true) {
    const exact = canonicalJsonText(text, maxDepth);
    if (exact !== undefined) return exact;
  }
  return canonicalJson(value, maxDepth);
}

/**
 * One linear pass over the text, outside strings: refuses nesting deeper than `maxDepth` and
 * tells whether any number literal may not survive a double. `undefined` when the brackets do
 * not balance (not JSON); JSON.parse finds every other syntax error.
 */
function scanJsonText(text: string, maxDepth: number): boolean | undefined {
  let depth = 0;
  let inexact = false;
  const length = text.length;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      // A string: skip to its closing quote, stepping over escapes.
      for (index++; index < length; index++) {
        const inner = text.charCodeAt(index);
        if (inner === 0x5c) index++;
        else if (inner === 0x22) break;
      }
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > maxDepth) throw tooDeep(maxDepth);
    } else if (code === 0x5d || code === 0x7d) {
      if (--depth < 0) return undefined;
    } else if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
      const start = index;
      while (index + 1 < length && isNumberChar(text.charCodeAt(index + 1))) index++;
      // Up to 15 significant digits without an exponent always survive a double (DBL_DIG).
      if (!inexact && (index - start >= 15 || hasExponent(text, start, index))) {
        inexact = !survivesDouble(text.slice(start, index + 1));
      }
    }
  }
  return depth === 0 ? inexact : undefined;
}

function isNumberChar(code: number): boolean {
  // Digits, '.', 'e', 'E', '+', '-'.
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

const jsonNumber = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * The exact decimal value of a JSON number literal as sign, significant digits and the position
 * of the decimal point (`-0.12e3` → `-12e1`…): `-` + digits + `e` + point.
 */
function exactDecimal(literal: string): string {
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
function survivesDouble(literal: string): boolean {
  if (!jsonNumber.test(literal)) return true; // Not a number: JSON.parse will refuse it.
  const value = Number(literal);
  if (!Number.isFinite(value)) return false;
  return exactDecimal(literal) === exactDecimal(String(value));
}

// Thrown by the exact parser on text that is not JSON; turned into `undefined` at the top.
const notJson = /* @__PURE__ */ new Error('not JSON');

/**
 * A small JSON parser that writes the canonical form straight from the text, for the rare body
 * with a number a double cannot hold. Recursive, which is safe: the scan bounded the nesting.
 */
class ExactJsonParser {
  index = 0;
  constructor(readonly text: string) {}

  done(): boolean {
    return this.index >= this.text.length;
  }

  skipSpace(): void {
    for (;;) {
      const code = this.text.charCodeAt(this.index);
      if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) this.index++;
      else return;
    }
  }

  value(): string {
    this.skipSpace();
    const code = this.text.charCodeAt(this.index);
    if (code === 0x7b) return this.object();
    if (code === 0x5b) return this.array();
    if (code === 0x22) return JSON.stringify(this.string());
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.index)) {
        this.index += word.length;
        return word;
      }
    }
    return this.number();
  }

  string(): string {
    const start = this.index;
    for (this.index++; this.index < this.text.length; this.index++) {
      const code = this.text.charCodeAt(this.index);
      if (code === 0x5c) this.index++;
      else if (code === 0x22) break;
    }
    this.index++;
    try {
      return JSON.parse(this.text.slice(start, this.index)) as string;
    } catch {
      throw notJson;
    }
  }

  number(): string {
    const start = this.index;
    while (this.index < this.text.length && isNumberChar(this.text.charCodeAt(this.index))) {
      this.index++;
    }
    const literal = this.text.slice(start, this.index);
    if (!jsonNumber.test(literal)) throw notJson;
    return survivesDouble(literal) ? JSON.stringify(Number(literal)) : exactDecimal(literal);
  }

  expect(code: number): void {
    this.skipSpace();
    if (this.text.charCodeAt(this.index) !== code) throw notJson;
    this.index++;
  }

  array(): string {
    this.index++;
    this.skipSpace();
    if (this.text.charCodeAt(this.index) === 0x5d) {
      this.index++;
      return '[]';
    }
    let text = '[';
    for (;;) {
      text += this.value();
      this.skipSpace();
      if (this.text.charCodeAt(this.index) === 0x5d) {
        this.index++;
        return `${text}]`;
      }
      this.expect(0x2c);
      text += ',';
    }
  }

  object(): string {
    this.index++;
    // As JSON.parse: a repeated name keeps its last value.
    const members = new Map<string, string>();
    this.skipSpace();
    if (this.text.charCodeAt(this.index) === 0x7d) {
      this.index++;
      return '{}';
    }
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.index) !== 0x22) throw notJson;
      const name = this.string();
      this.expect(0x3a);
      members.set(name, this.value());
      this.skipSpace();
      if (this.text.charCodeAt(this.index) === 0x7d) {
        this.index++;
        break;
      }
      this.expect(0x2c);
    }
    // Default sort compares UTF-16 code units, as RFC 8785 asks.
    const names = [...members.keys()].sort();
    let text = '{';
    for (let index = 0; index < names.length; index++) {
      const name = names[index] as string;
      text += `${index > 0 ? ',' : ''}${JSON.stringify(name)}:${members.get(name)}`;
    }
    return `${text}}`;
  }
}
