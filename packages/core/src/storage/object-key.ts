/**
 * Object keys and their order. S3 lists keys in UTF-8 byte order, which is also Unicode code
 * point order; JavaScript's `<` compares UTF-16 code units, which disagrees for characters
 * above U+E000 versus astral characters. Reconciliation merge-joins a storage listing with rows
 * sorted by key, and one disagreement in order would make it see a missing object and an orphan
 * where there is neither, so every sort in Ballast goes through {@link compareObjectKeys}.
 */
import { BallastError } from '../errors/ballast-error.js';
import { invalidArgument } from '../options/invalid-argument.js';

/** S3's limit on a key, in UTF-8 bytes. */
export const maxObjectKeyBytes = 1024;

const encoder = /* @__PURE__ */ new TextEncoder();

/** Maps a UTF-16 code unit so that numeric order becomes code point order. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  // Surrogates (astral code points) sort after U+E000–U+FFFF in code point order.
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * Compares two keys in UTF-8 byte order (S3's listing order): negative, zero or positive.
 * Use it to sort keys the way `ObjectStorage.list` returns them; a SQL implementation of
 * `listByKey` gets the same order with `ORDER BY key COLLATE "C"` in a UTF-8 database.
 *
 * @example
 * ```ts
 * ['b', 'a/2', 'a-1'].sort(compareObjectKeys); // ['a-1', 'a/2', 'b']
 * ```
 */
export function compareObjectKeys(a: string, b: string): number {
  if (typeof a !== 'string' || typeof b !== 'string') {
    throw invalidArgument('compareObjectKeys()', typeof a !== 'string' ? 'a' : 'b', 'a string');
  }
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) < codePointRank(y) ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** `String.prototype.isWellFormed`, which core's ES2022 lib does not declare. */
function isWellFormed(text: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

/**
 * Throws `INVALID_KEY` (400, field `key`) unless `key` is a non-empty, well-formed Unicode
 * string (no lone surrogate, which has no UTF-8 form) of at most 1,024 UTF-8 bytes without
 * control characters. Every storage in Ballast accepts at least these keys.
 */
export function assertObjectKey(key: unknown, field = 'key'): asserts key is string {
  let problem: string | undefined;
  if (typeof key !== 'string' || key.length === 0) problem = 'must be a non-empty string';
  // Checked before encoding: TextEncoder would silently turn a lone surrogate into U+FFFD.
  else if (!isWellFormed(key)) problem = 'must be well-formed Unicode (no lone surrogate)';
  else if (encoder.encode(key).length > maxObjectKeyBytes)
    problem = `must be at most ${maxObjectKeyBytes} UTF-8 bytes`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects.
  else if (/[\u0000-\u001f\u007f]/.test(key)) problem = 'must not contain control characters';
  if (problem !== undefined) {
    throw new BallastError('INVALID_KEY', {
      message: `Invalid object key: ${problem}.`,
      details: { field },
    });
  }
}
