/**
 * One header read from whatever carries it: a `Headers` (or anything with a `get(name)`), a
 * plain record, or `[name, value]` pairs. The request `retry()` guards and the errors its
 * classifier reads come in every one of these shapes, and both read their header here.
 */

/**
 * The first string value of header `name` (lower case) in `headers`, names compared without
 * case; `undefined` when `headers` is not an object or has no such value.
 */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const bag = headers as { get?: (name: string) => unknown };
  // A Headers' get() already ignores case and joins a repeated header.
  const entries =
    typeof bag.get === 'function'
      ? [[name, bag.get(name)]]
      : Array.isArray(headers)
        ? headers
        : Object.entries(headers);
  for (const [key, value] of entries) {
    if (String(key).toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}
