/**
 * One text for one JSON value. Two clients that send the same object with keys in another order,
 * or with other whitespace, send the same request; a fingerprint over this form says so, while
 * any change of a value (including its type: `1` versus `"1"`, `null` versus a missing member)
 * changes the text. The form follows RFC 8785 (JCS): members sorted by UTF-16 code units,
 * numbers and strings as ECMAScript's `JSON.stringify` writes them.
 */

/**
 * Serialises `value` canonically, with `JSON.stringify`'s own rules for what is not JSON:
 * `toJSON()` is honoured, `undefined`, functions and symbols are dropped from objects and become
 * `null` in arrays, non-finite numbers become `null`. A `bigint` throws, as in `JSON.stringify`.
 */
export function canonicalJson(value: unknown): string {
  // Most bodies are plain JSON whose members are already in order; JSON.stringify writes those
  // exactly as the canonical form, natively and without sorting anything.
  if (isInCanonicalOrder(value)) return JSON.stringify(value) ?? 'null';
  return write(value, '') ?? 'null';
}

/**
 * True when `JSON.stringify(value)` already is the canonical form: plain objects and arrays of
 * primitives whose member names come in sorted order at every level. Anything with a `toJSON`,
 * a boxed primitive or a bigint takes the general path, which handles them.
 */
function isInCanonicalOrder(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return typeof value !== 'bigint';
  // A toJSON decides what is written, in whatever order it likes.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (!isInCanonicalOrder(value[index])) return false;
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
    if (!isInCanonicalOrder((value as Record<string, unknown>)[name])) return false;
  }
  return true;
}

function write(value: unknown, key: string): string | undefined {
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
      if (Array.isArray(current)) return writeArray(current);
      return writeObject(current as Record<string, unknown>);
    default:
      // undefined, function, symbol: no JSON form.
      return undefined;
  }
}

// Loops and string concatenation rather than map/join: this runs on every keyed request.
function writeArray(array: readonly unknown[]): string {
  let text = '[';
  for (let index = 0; index < array.length; index++) {
    if (index > 0) text += ',';
    text += write(array[index], String(index)) ?? 'null';
  }
  return `${text}]`;
}

function writeObject(object: Record<string, unknown>): string {
  let text = '{';
  let first = true;
  // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
  const names = Object.keys(object).sort();
  for (let index = 0; index < names.length; index++) {
    const name = names[index] as string;
    const member = write(object[name], name);
    if (member === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(name)}:${member}`;
    first = false;
  }
  return `${text}}`;
}
