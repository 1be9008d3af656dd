/**
 * A stand-in for core's small strict validator `v` (agreed API in the public-API issue), with
 * the same names and semantics for the subset the client uses. It exists only so the client
 * builds before `v` lands on `@ballast/core/adapter-kit`; then this file becomes
 * `export { v } from '@ballast/core/adapter-kit'` and nothing else in the client changes.
 *
 * @internal
 */
import type { StandardSchemaV1 } from '@ballast/core/adapter-kit';

type Issue = StandardSchemaV1.Issue;
type Check<T> = (value: unknown, path: PropertyKey[]) => { value: T } | { issues: Issue[] };

/** A Standard Schema whose output type is `T`. */
export interface Schema<T> extends StandardSchemaV1<unknown, T> {
  readonly check: Check<T>;
  readonly optional?: boolean;
}

function schema<T>(check: Check<T>, optional = false): Schema<T> {
  return {
    check,
    optional,
    '~standard': {
      version: 1,
      vendor: 'ballast',
      validate: (value) => {
        const result = check(value, []);
        return 'value' in result ? { value: result.value } : { issues: result.issues };
      },
    },
  };
}

const fail = (path: PropertyKey[], message: string) => ({ issues: [{ message, path }] });

function primitive<T>(test: (value: unknown) => boolean, expected: string): Schema<T> {
  return schema((value, path) =>
    test(value) ? { value: value as T } : fail(path, `expected ${expected}`),
  );
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: undefined extends Infer<S[K]> ? K : never;
}[keyof S];
type ObjectOutput<S extends Shape> = {
  [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]>;
} & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** The output type of a schema. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

export const v = {
  object<S extends Shape>(shape: S): Schema<{ [K in keyof ObjectOutput<S>]: ObjectOutput<S>[K] }> {
    return schema((value, path) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return fail(path.length === 0 ? ['(options)'] : path, 'expected an object');
      }
      const input = value as Record<string, unknown>;
      const output: Record<string, unknown> = {};
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(shape, key)) return fail([...path, key], 'unknown option');
      }
      for (const [key, field] of Object.entries(shape)) {
        const result = field.check(input[key], [...path, key]);
        if ('issues' in result) return result;
        if (result.value !== undefined) output[key] = result.value;
      }
      return { value: output as never };
    });
  },
  optional: (<T>(inner: Schema<T>, fallback?: T): Schema<T | undefined> =>
    schema<T | undefined>(
      (value, path) => (value === undefined ? { value: fallback } : inner.check(value, path)),
      true,
    )) as {
    <T>(inner: Schema<T>, fallback: T): Schema<T>;
    <T>(inner: Schema<T>): Schema<T | undefined>;
  },
  string(rules: { minLength?: number; maxLength?: number } = {}): Schema<string> {
    const { minLength = 0, maxLength = Number.POSITIVE_INFINITY } = rules;
    return primitive(
      (value) =>
        typeof value === 'string' && value.length >= minLength && value.length <= maxLength,
      `a string of ${minLength} to ${maxLength} characters`,
    );
  },
  number(rules: { min?: number; max?: number; integer?: boolean } = {}): Schema<number> {
    const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, integer } = rules;
    return primitive(
      (value) =>
        typeof value === 'number' &&
        Number.isFinite(value) &&
        value >= min &&
        value <= max &&
        (!integer || Number.isInteger(value)),
      `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
    );
  },
  durationMs(rules: { min?: number; max?: number } = {}): Schema<number> {
    return v.number({ min: rules.min ?? 0, max: rules.max ?? 2 ** 31 - 1 });
  },
  boolean(): Schema<boolean> {
    return primitive((value) => typeof value === 'boolean', 'a boolean');
  },
  literal<const L extends readonly (string | number | boolean)[]>(...values: L): Schema<L[number]> {
    return primitive((value) => values.includes(value as never), `one of ${values.join(', ')}`);
  },
  array<T>(item: Schema<T>, rules: { minLength?: number; maxLength?: number } = {}): Schema<T[]> {
    return schema((value, path) => {
      const { minLength = 0, maxLength = Number.POSITIVE_INFINITY } = rules;
      if (!Array.isArray(value) || value.length < minLength || value.length > maxLength) {
        return fail(path, `expected a list of ${minLength} to ${maxLength} items`);
      }
      const output: T[] = [];
      for (const [index, element] of value.entries()) {
        const result = item.check(element, [...path, index]);
        if ('issues' in result) return result;
        output.push(result.value);
      }
      return { value: output };
    });
  },
  func<F = (...args: never[]) => unknown>(description = 'a function'): Schema<F> {
    return primitive((value) => typeof value === 'function', description);
  },
  custom<T>(predicate: (value: unknown) => boolean, expected: string): Schema<T> {
    return primitive(predicate, expected);
  },
};
