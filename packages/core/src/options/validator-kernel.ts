/**
 * The kernel of core's small validator: what a schema is (a Standard Schema V1 with a
 * `~check` that pushes issues), its output types, and the helpers every schema is built from.
 * The schemas themselves (`object`, `number`, `union`…) are in small-validator.ts.
 */
import type { StandardSchemaV1 } from './standard-schema.js';

/** The problem a check found; `path` is filled in by the enclosing object, array or record. */
export interface Issue {
  readonly message: string;
  path: PropertyKey[];
  /** A mismatch of kind at this level (not a bound, not a nested field), for unions' messages. */
  readonly kind?: 'type';
}

/**
 * Checks `value`, pushing any problem onto `issues`, and returns the output (defaults applied).
 * The caller knows a check failed because `issues` grew; the returned value is then unused.
 */
export type Check = (value: unknown, issues: Issue[]) => unknown;

/** A schema of this validator: a Standard Schema whose output is `Output`. */
export interface Schema<Output> extends StandardSchemaV1<unknown, Output> {
  /** What a valid value is, for messages: `'a number'`, `'a Clock (now, sleep, setTimer)'`. */
  readonly expected: string;
  /** @internal */
  readonly '~check': Check;
}

/** A schema whose key may be absent from an object ({@link optional}). */
export interface OptionalSchema<Output, Present extends boolean = false> extends Schema<Output> {
  /** @internal */
  readonly '~optional': Present extends true ? 'default' : 'absent';
}

/** The output type of a schema: `Infer<typeof schema>`. */
export type Infer<S> = S extends Schema<infer Output> ? Output : never;

type OptionalKeys<Shape> = {
  [K in keyof Shape]: Shape[K] extends { readonly '~optional': 'absent' } ? K : never;
}[keyof Shape];

/** The output of an {@link object} schema: keys of `optional()` fields without a default are optional. */
export type InferShape<Shape extends Record<string, Schema<unknown>>> = {
  [K in Exclude<keyof Shape, OptionalKeys<Shape>>]: Infer<Shape[K]>;
} & { [K in OptionalKeys<Shape>]?: Infer<Shape[K]> };

export type Simplify<T> = { [K in keyof T]: T[K] } & {};

function received(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  return typeof value;
}

export function typeIssue(expected: string, value: unknown): Issue {
  return { message: `expected ${expected}, received ${received(value)}`, path: [], kind: 'type' };
}

export function schema<Output>(expected: string, check: Check): Schema<Output> {
  return {
    expected,
    '~check': check,
    '~standard': {
      version: 1,
      vendor: 'ballast',
      validate(value) {
        const issues: Issue[] = [];
        const output = check(value, issues);
        return issues.length === 0 ? { value: output as Output } : { issues };
      },
    },
  };
}

/** Runs a child check and puts `key` in front of the path of every issue it added. */
export function checkChild(
  child: Schema<unknown>,
  value: unknown,
  key: PropertyKey,
  issues: Issue[],
) {
  const before = issues.length;
  const output = child['~check'](value, issues);
  for (let i = before; i < issues.length; i++) (issues[i] as Issue).path.unshift(key);
  return output;
}
