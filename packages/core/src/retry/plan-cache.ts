/**
 * Validating an options object written inline at each call (`retry(fn, { preset: 'read',
 * signal })`) once, not on every call. The schema stays the one authority: an options object is
 * compiled by it the first time its values are seen, and a later object reuses that plan only
 * when it has exactly the same keys with the same values, `signal`, `deadline` and `request`
 * aside (they change from call to call and are checked on each one). Anything else, a new key,
 * a misspelt one, another value, goes to the schema again, so validation is exactly as strict
 * as before, only not repeated.
 *
 * Values are compared by identity, except the three that are usually written inline as
 * literals and hold only primitives or functions: `delaysMs` or `delays` (arrays), `backoff` and `on`
 * (objects), compared item by item against a copy taken when they were validated, so changing
 * such an array or object after the call is noticed too.
 */
import type { RetryPlan } from './retry-plan.js';

/** The validated values of one options object (call-scoped keys left out), and its plan. */
interface Shape {
  /** Key → value as validated; a null-prototype object, so `in` sees only these keys. */
  readonly values: Record<string, unknown>;
  readonly keyCount: number;
  readonly plan: RetryPlan;
}

/** A few call sites' worth: a lookup walks the list, so it must stay short. */
const capacity = 8;
const shapes: Shape[] = [];

const isCallScoped = (key: string) => key === 'signal' || key === 'deadline' || key === 'request';

/** Keys whose value is compared item by item (see the header). */
const isLiteralKey = (key: string) =>
  key === 'delaysMs' || key === 'delays' || key === 'backoff' || key === 'on';

/** `value` as validated; a literal key's array or object (or nothing, if undefined) copied. */
function copyOf(key: string, value: unknown): unknown {
  if (!isLiteralKey(key) || value === undefined) return value;
  return Array.isArray(value) ? [...value] : { ...(value as object) };
}

/**
 * Whether `value` holds what `cached` held: `count` enumerable keys (the call-scoped ones aside,
 * at the top) with identical values. At the top, a literal key's value may instead hold the same
 * items as its copy (an array and an object never match each other, a hole in an array is a
 * missing key).
 */
function sameValues(
  cached: Record<string, unknown>,
  value: Record<string, unknown>,
  count: number,
  top?: boolean,
): boolean {
  for (const key in value) {
    if (top && isCallScoped(key)) continue;
    if (!(key in cached)) return false;
    const item = value[key];
    const before = cached[key] as Record<string, unknown>;
    if (
      item !== before &&
      // Not the same value: a literal's array or object may still hold the same items.
      !(
        top &&
        isLiteralKey(key) &&
        typeof item === 'object' &&
        item !== null &&
        // Validated with the key given as undefined: nothing to compare items with.
        before !== undefined &&
        Array.isArray(item) === Array.isArray(before) &&
        sameValues(before, item as Record<string, unknown>, Object.keys(before).length)
      )
    ) {
      return false;
    }
    count--;
  }
  return count === 0;
}

/** The plan compiled for options with these values, if they were seen recently. */
export function cachedPlan(input: Record<string, unknown>): RetryPlan | undefined {
  for (let i = 0; i < shapes.length; i++) {
    const shape = shapes[i] as Shape;
    if (!sameValues(shape.values, input, shape.keyCount, true)) continue;
    // Move towards the front, so a hot call site stays found first among one-off ones.
    if (i > 0) {
      shapes[i] = shapes[i - 1] as Shape;
      shapes[i - 1] = shape;
    }
    return shape.plan;
  }
  return undefined;
}

/** Remembers the plan the schema compiled for `input` (which it accepted). */
export function rememberPlan(input: Record<string, unknown>, plan: RetryPlan): void {
  const values: Record<string, unknown> = Object.create(null);
  let keyCount = 0;
  for (const key in input) {
    if (isCallScoped(key)) continue;
    values[key] = copyOf(key, input[key]);
    keyCount++;
  }
  shapes.unshift({ values, keyCount, plan });
  if (shapes.length > capacity) shapes.pop();
}

/** Forgets every remembered plan (tests). */
export function clearPlanCache(): void {
  shapes.length = 0;
}
