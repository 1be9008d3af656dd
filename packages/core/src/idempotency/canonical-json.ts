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
import {
  exactDecimal,
  isNumberChar,
  jsonNumber,
  scanJsonText,
  survivesDouble,
  tooDeep,
} from './json-text-scan.js';

// Thrown from deep inside the walk and turned into the public error at the top, which knows the
// limit; one preallocated value, so the walk carries only the depth left, not the limit too.
const depthExceeded = /* @__PURE__ */ new Error('depth exceeded');

/** Deepest nesting of arrays and objects canonicalised by default. */
export const defaultMaxJsonDepth = 256;

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
  const shape = scanJsonText(text, maxDepth);
  if (shape === undefined) return undefined;
  if (shape !== 'inexact') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    // JSON, already in canonical form: the text is its own canonical form.
    return shape === 'canonical' ? text : canonicalJson(value, maxDepth);
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
 * text itself when it already is in canonical form (most clients send compact JSON with few
 * members, often in order), else the parsed value canonicalised (no second parse), unless the
 * text holds a number literal a double cannot hold, which only the text has exactly. `value`
 * must be what `JSON.parse(text)` returns.
 */
export function canonicalJsonParsedFrom(
  value: unknown,
  text: string,
  maxDepth: number = defaultMaxJsonDepth,
): string {
  const shape = scanJsonText(text, maxDepth);
  if (shape === 'canonical') return text;
  if (shape === 'inexact') {
    const exact = canonicalJsonText(text, maxDepth);
    if (exact !== undefined) return exact;
  }
  return canonicalJson(value, maxDepth);
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
