/**
 * Field-level three-way merge (seed 002 §3.2, "merge por campo"). Two people edited the same
 * record from the same starting point (`base`): a field only one of them changed takes that
 * change; a field both changed to different values is a conflict, reported by name and never
 * resolved silently. Last-write-wins happens only when the caller asks for it (`onConflict`).
 *
 * Fields are compared as whole values (a nested object or array is one field), by structural
 * equality on JSON-like data, so `{ a: 1 }` from the client equals `{ a: 1 }` from the database.
 */
import { BallastError } from '../errors/ballast-error.js';

/** What to do with a field both sides changed to different values. */
export type MergeConflictPolicy = 'report' | 'mine' | 'theirs';

/** Options for {@link mergeFields}. */
export interface MergeFieldsOptions {
  /**
   * `'report'` (default): list the field in `conflicts` and keep `theirs` in `merged`.
   * `'mine'` / `'theirs'`: last-write-wins for that side; the merge then always succeeds.
   */
  readonly onConflict?: MergeConflictPolicy;
}

/** The outcome of {@link mergeFields}. */
export type MergeResult<T> =
  | { readonly ok: true; readonly merged: T }
  | {
      readonly ok: false;
      /** Fields both sides changed to different values, in `theirs`-then-`mine` key order. */
      readonly conflicts: string[];
      /** Every non-conflicting change applied; conflicting fields hold `theirs`. */
      readonly merged: T;
    };

const policies: readonly MergeConflictPolicy[] = ['report', 'mine', 'theirs'];

function invalid(field: string, problem: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for mergeFields(): "${field}": ${problem}`,
    details: { field },
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Structural equality for JSON-like values; `Date`s compare by instant. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => sameValue(item, b[index]));
  }
  const aKeys = Object.keys(a);
  const bRecord = b as Record<string, unknown>;
  if (aKeys.length !== Object.keys(bRecord).length) return false;
  return aKeys.every(
    (key) =>
      Object.hasOwn(bRecord, key) && sameValue((a as Record<string, unknown>)[key], bRecord[key]),
  );
}

// An absent field and a field holding `undefined` are the same thing to a merge.
const absent = Symbol('absent');
function field(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) && record[key] !== undefined ? record[key] : absent;
}

/**
 * Three-way merge of `mine` and `theirs`, both edited from `base`.
 *
 * - a field changed on one side only takes that side's value (a field removed on one side is removed);
 * - a field changed identically on both sides takes that value;
 * - a field changed differently on both sides is a conflict: reported (default) or resolved by
 *   `onConflict: 'mine' | 'theirs'` (last-write-wins, only when asked).
 *
 * @example
 * ```ts
 * const result = mergeFields(loaded, edited, current);
 * if (result.ok) await save(result.merged);
 * else showConflicts(result.conflicts); // e.g. ['title']
 * ```
 */
export function mergeFields<T extends Record<string, unknown>>(
  base: T,
  mine: T,
  theirs: T,
  options: MergeFieldsOptions = {},
): MergeResult<T> {
  if (!isRecord(base)) throw invalid('base', 'expected a plain object');
  if (!isRecord(mine)) throw invalid('mine', 'expected a plain object');
  if (!isRecord(theirs)) throw invalid('theirs', 'expected a plain object');
  if (!isRecord(options)) throw invalid('(options)', 'expected an object');
  for (const key of Object.keys(options)) {
    if (key !== 'onConflict') throw invalid(key, 'unknown option');
  }
  const policy = options.onConflict ?? 'report';
  if (!policies.includes(policy as MergeConflictPolicy)) {
    throw invalid('onConflict', `expected one of ${policies.map((p) => `'${p}'`).join(', ')}`);
  }

  const merged: Record<string, unknown> = {};
  const conflicts: string[] = [];
  const keys = new Set([...Object.keys(theirs), ...Object.keys(mine), ...Object.keys(base)]);
  for (const key of keys) {
    const was = field(base, key);
    const m = field(mine, key);
    const t = field(theirs, key);
    let value: unknown;
    if (sameValue(m, t)) value = t;
    else if (sameValue(m, was)) value = t;
    else if (sameValue(t, was)) value = m;
    else if (policy === 'mine') value = m;
    else {
      value = t;
      if (policy === 'report') conflicts.push(key);
    }
    if (value !== absent) merged[key] = value;
  }
  if (conflicts.length > 0) return { ok: false, conflicts, merged: merged as T };
  return { ok: true, merged: merged as T };
}
