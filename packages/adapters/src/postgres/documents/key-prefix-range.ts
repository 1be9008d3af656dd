/**
 * A key prefix as a range, so that listing a prefix is an index range scan on
 * `(storage_key COLLATE "C", id)` that stops at the end of the prefix, instead of a `LIKE` that
 * reads every later row to fill the last page.
 */

/**
 * The smallest string greater, in code point order (UTF-8 byte order, Postgres' `"C"`
 * collation), than every string that starts with `prefix`; `undefined` when there is none (the
 * prefix is all U+10FFFF). Keys `k` with `prefix <= k < bound` are exactly the keys that start
 * with `prefix`.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()?.codePointAt(0) ?? 0;
    if (last < 0x10ffff) {
      // Surrogate code points are not characters; the next character after U+D7FF is U+E000.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}
