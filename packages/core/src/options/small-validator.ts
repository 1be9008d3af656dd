/**
 * Core's small strict validator. Core runs in browsers, where `import { retry }` must stay under
 * 5 kB min+gzip; even zod's mini build costs more than that for one object schema. This one is
 * under 2 kB min+gzip whole (less, since unused schemas are tree-shaken), does only what core's
 * options need, and is strict: an object schema rejects unknown keys, so a misspelt option
 * (`requried: true`) fails instead of being ignored.
 *
 * Every schema is a Standard Schema V1, so it goes through `parseOptions()` exactly as a zod
 * schema does and produces the same `INVALID_OPTIONS` error naming the field.
 *
 * Speed matters as much as size: `retry(fn, { preset: 'read', signal })` validates its inline
 * options object on every call. A successful check allocates only the output object; paths are
 * built only when something fails (a parent prefixes its key to the issues its child reported).
 *
 * Every factory is marked `@__NO_SIDE_EFFECTS__`: core ships as one module per entry, where a
 * schema built at module level would otherwise stay in every bundle, used or not.
 *
 * Import it as a namespace: `import { v } from '@ballast/core/adapter-kit'`, then
 * `v.object({ limit: v.number({ min: 1 }) })` and `v.Infer<typeof schema>`.
 */
import type { Clock } from '../clock/clock.js';
import type { Logger } from '../logging/logger.js';
import { hasEveryMethod, isAbortSignalLike, isClockLike } from './shape-checks.js';

import {
  checkChild,
  type Infer,
  type InferShape,
  type Issue,
  type OptionalSchema,
  type Schema,
  type Simplify,
  schema,
  typeIssue,
} from './validator-kernel.js';

export type { Infer, InferShape, OptionalSchema, Schema } from './validator-kernel.js';

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * An options object. Strict: a key that is not in `shape` is reported as `unknown option`.
 * `undefined` (a missing options argument) fails at `(options)`. The output is a new object
 * holding the shape's keys that have a value (after defaults); the input is never changed.
 *
 * `{ unknownKeys: 'strip' }` is for values that are not options but objects read by shape,
 * such as a `Request` passed where `{ method, headers }` is expected: other keys are ignored.
 */
export /* @__NO_SIDE_EFFECTS__ */ function object<Shape extends Record<string, Schema<unknown>>>(
  shape: Shape,
  mode: { unknownKeys?: 'reject' | 'strip' } = {},
): Schema<Simplify<InferShape<Shape>>> {
  const keys = Object.keys(shape);
  const children = keys.map((key) => shape[key] as Schema<unknown>);
  const strict = mode.unknownKeys !== 'strip';
  return schema('an options object', (value, issues) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push(typeIssue('an options object', value));
      return value;
    }
    const input = value as Record<string, unknown>;
    if (strict) {
      for (const key in input) {
        if (!hasOwn.call(shape, key)) issues.push({ message: 'unknown option', path: [key] });
      }
    }
    const output: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const result = checkChild(children[i] as Schema<unknown>, input[key], key, issues);
      if (result !== undefined) output[key] = result;
    }
    return output;
  });
}

/**
 * Lets a value be `undefined` (a key be absent). With `fallback`, an absent value becomes
 * `fallback` and the output type is no longer optional.
 */
export function optional<Output>(inner: Schema<Output>): OptionalSchema<Output | undefined>;
export function optional<Output>(
  inner: Schema<Output>,
  fallback: NoInfer<Output>,
): OptionalSchema<Output, true>;
export /* @__NO_SIDE_EFFECTS__ */ function optional<Output>(
  inner: Schema<Output>,
  fallback?: Output,
): OptionalSchema<Output | undefined, boolean> {
  const check = inner['~check'];
  return {
    ...schema<Output | undefined>(inner.expected, (value, issues) =>
      value === undefined ? fallback : check(value, issues),
    ),
    '~optional': fallback === undefined ? 'absent' : 'default',
  } as OptionalSchema<Output | undefined, boolean>;
}

/** A string, optionally bounded in length or matching `pattern`. */
export /* @__NO_SIDE_EFFECTS__ */ function string(
  bounds: { minLength?: number; maxLength?: number; pattern?: RegExp } = {},
): Schema<string> {
  const { minLength = 0, maxLength = Number.POSITIVE_INFINITY, pattern } = bounds;
  return schema('a string', (value, issues) => {
    if (typeof value !== 'string') issues.push(typeIssue('a string', value));
    else if (value.length < minLength) {
      const message =
        minLength === 1 ? 'must not be empty' : `must be at least ${minLength} characters`;
      issues.push({ message, path: [] });
    } else if (value.length > maxLength) {
      issues.push({ message: `must be at most ${maxLength} characters`, path: [] });
    } else if (pattern !== undefined && !pattern.test(value)) {
      issues.push({ message: `must match ${pattern}`, path: [] });
    }
    return value;
  });
}

function finiteNumber(
  expected: string,
  min: number,
  max: number,
  integer: boolean,
  exclusiveMin = false,
): Schema<number> {
  return schema(expected, (value, issues) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      issues.push(typeIssue(expected, value));
    } else if (integer && !Number.isInteger(value)) {
      issues.push({ message: 'must be an integer', path: [] });
    } else if (exclusiveMin ? value <= min : value < min) {
      issues.push({
        message: `must be ${exclusiveMin ? 'greater than' : 'at least'} ${min}`,
        path: [],
      });
    } else if (value > max) {
      issues.push({ message: `must be at most ${max}`, path: [] });
    }
    return value;
  });
}

/**
 * A finite number (never `NaN` or `Infinity`). `min`/`max` are inclusive; `greaterThan` is an
 * exclusive lower bound (`{ greaterThan: 0 }` for a positive number).
 */
export /* @__NO_SIDE_EFFECTS__ */ function number(
  bounds: { min?: number; max?: number; greaterThan?: number; integer?: boolean } = {},
): Schema<number> {
  const { max = Number.POSITIVE_INFINITY, integer = false } = bounds;
  return bounds.greaterThan === undefined
    ? finiteNumber('a number', bounds.min ?? Number.NEGATIVE_INFINITY, max, integer)
    : finiteNumber('a number', bounds.greaterThan, max, integer, true);
}

/** The longest delay a JavaScript timer honours: 2³¹−1 ms (about 24.8 days). */
export const maxTimerMs = 2_147_483_647;

/**
 * A duration in milliseconds: a finite number from `min` (default 0) to `max` (default
 * {@link maxTimerMs}, since a longer timer fires at once with a `TimeoutOverflowWarning`).
 */
export /* @__NO_SIDE_EFFECTS__ */ function durationMs(
  bounds: { min?: number; max?: number } = {},
): Schema<number> {
  return finiteNumber('a duration in ms', bounds.min ?? 0, bounds.max ?? maxTimerMs, false);
}

/** Anything at all, `undefined` included: a value passed through unchecked (`record: unknown`). */
export /* @__NO_SIDE_EFFECTS__ */ function unknown(): Schema<unknown> {
  return schema('anything', (value) => value);
}

/** `true` or `false`. */
export /* @__NO_SIDE_EFFECTS__ */ function boolean(): Schema<boolean> {
  return schema('a boolean', (value, issues) => {
    if (typeof value !== 'boolean') issues.push(typeIssue('a boolean', value));
    return value;
  });
}

type Primitive = string | number | boolean | null;

/** One of the given primitive values, compared with `===`. */
export /* @__NO_SIDE_EFFECTS__ */ function literal<
  const Values extends readonly [Primitive, ...Primitive[]],
>(...values: Values): Schema<Values[number]> {
  const expected = `one of ${values.map((value) => JSON.stringify(value)).join(', ')}`;
  return schema(expected, (value, issues) => {
    if (!values.includes(value as Primitive)) {
      issues.push({ message: `expected ${expected}`, path: [], kind: 'type' });
    }
    return value;
  });
}

/** An array whose every item passes `item`; the output is a new array. */
export /* @__NO_SIDE_EFFECTS__ */ function array<Output>(
  item: Schema<Output>,
  bounds: { minLength?: number; maxLength?: number } = {},
): Schema<Output[]> {
  const { minLength = 0, maxLength = Number.POSITIVE_INFINITY } = bounds;
  const expected = 'an array';
  return schema(expected, (value, issues) => {
    if (!Array.isArray(value)) {
      issues.push(typeIssue(expected, value));
      return value;
    }
    if (value.length < minLength) {
      issues.push({ message: `must have at least ${minLength} items`, path: [] });
    } else if (value.length > maxLength) {
      issues.push({ message: `must have at most ${maxLength} items`, path: [] });
    }
    const output: Output[] = [];
    // An index loop, not `map`, which would skip the holes of a sparse array.
    for (let i = 0; i < value.length; i++) {
      output.push(checkChild(item, value[i], i, issues) as Output);
    }
    return output;
  });
}

/** An object used as a map from string keys to values that pass `valueSchema`. */
export /* @__NO_SIDE_EFFECTS__ */ function record<Output>(
  valueSchema: Schema<Output>,
): Schema<Record<string, Output>> {
  const expected = 'an object';
  return schema(expected, (value, issues) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push(typeIssue(expected, value));
      return value;
    }
    const output: Record<string, Output> = {};
    for (const key of Object.keys(value)) {
      output[key] = checkChild(
        valueSchema,
        (value as Record<string, unknown>)[key],
        key,
        issues,
      ) as Output;
    }
    return output;
  });
}

/**
 * The first alternative that accepts the value. When none does, and every one failed on the
 * kind of value, the message lists what was expected (`expected a number or a Date`);
 * otherwise it is the problem of the first alternative that accepted the kind (`must be at
 * least 1`), which says more.
 */
export /* @__NO_SIDE_EFFECTS__ */ function union<
  const Schemas extends readonly [Schema<unknown>, ...Schema<unknown>[]],
>(...alternatives: Schemas): Schema<Infer<Schemas[number]>> {
  const expected = alternatives.map((alternative) => alternative.expected).join(' or ');
  return schema(expected, (value, issues) => {
    let closest: Issue[] | undefined;
    for (const alternative of alternatives) {
      const attempt: Issue[] = [];
      const output = alternative['~check'](value, attempt);
      if (attempt.length === 0) return output;
      if (closest === undefined && !(attempt.length === 1 && attempt[0]?.kind === 'type')) {
        closest = attempt;
      }
    }
    if (closest === undefined) issues.push(typeIssue(expected, value));
    else issues.push(...closest);
    return value;
  });
}

/**
 * A value accepted by `predicate`, typed as `T`: for shapes the other schemas do not cover.
 * `expected` completes the message `expected …` (`'an ioredis client'`).
 */
export /* @__NO_SIDE_EFFECTS__ */ function custom<T>(
  predicate: (value: unknown) => boolean,
  expected: string,
): Schema<T> {
  return schema(expected, (value, issues) => {
    if (!predicate(value)) issues.push({ message: `expected ${expected}`, path: [], kind: 'type' });
    return value;
  });
}

/**
 * Runs `check` on a value `inner` accepted, for rules across fields (`choose one of delays or
 * backoff`). `check` returns nothing when the value is fine, or the message and the path of
 * the field it concerns (`['heartbeat', 'maxHoldMs']`; none for the value as a whole).
 */
export /* @__NO_SIDE_EFFECTS__ */ function refine<Output>(
  inner: Schema<Output>,
  check: (value: Output) => { message: string; path?: readonly PropertyKey[] } | undefined,
): Schema<Output> {
  const innerCheck = inner['~check'];
  return schema(inner.expected, (value, issues) => {
    const before = issues.length;
    const output = innerCheck(value, issues) as Output;
    if (issues.length === before) {
      const problem = check(output);
      if (problem !== undefined) {
        issues.push({ message: problem.message, path: [...(problem.path ?? [])] });
      }
    }
    return output;
  });
}

/** A value `inner` accepted, turned into another by `convert` (`name.toLowerCase()`). */
export /* @__NO_SIDE_EFFECTS__ */ function transform<Input, Output>(
  inner: Schema<Input>,
  convert: (value: Input) => Output,
): Schema<Output> {
  const innerCheck = inner['~check'];
  return schema(inner.expected, (value, issues) => {
    const before = issues.length;
    const output = innerCheck(value, issues) as Input;
    return issues.length === before ? convert(output) : output;
  });
}

/** Any function. Its signature is TypeScript's business; this only checks it is callable. */
export /* @__NO_SIDE_EFFECTS__ */ function func<
  Fn extends (...args: never[]) => unknown = (...args: never[]) => unknown,
>(description = 'a function'): Schema<Fn> {
  return custom<Fn>((value) => typeof value === 'function', description);
}

/** An object with a function under each of `methods`, e.g. `methods(['set', 'get'], 'a Map')`. */
export /* @__NO_SIDE_EFFECTS__ */ function methods<T>(
  names: readonly string[],
  expected: string,
): Schema<T> {
  return custom<T>((value) => hasEveryMethod(value, names), expected);
}

/** A `Clock` (`now`, `sleep`, `setTimer`), checked by shape so test doubles are accepted. */
export /* @__NO_SIDE_EFFECTS__ */ function clock(): Schema<Clock> {
  return custom<Clock>(isClockLike, 'a Clock (now, sleep, setTimer)');
}

/** A pino-compatible `Logger`: `debug`, `info`, `warn`, `error`. */
export /* @__NO_SIDE_EFFECTS__ */ function logger(): Schema<Logger> {
  return methods<Logger>(['debug', 'info', 'warn', 'error'], 'a Logger (debug, info, warn, error)');
}

/** An `AbortSignal`, by shape: polyfills and other realms have their own class. */
export /* @__NO_SIDE_EFFECTS__ */ function abortSignal(): Schema<AbortSignal> {
  return custom<AbortSignal>(isAbortSignalLike, 'an AbortSignal');
}

/** A `Date` that holds a valid time. */
export /* @__NO_SIDE_EFFECTS__ */ function date(): Schema<Date> {
  return custom<Date>(
    (value) => value instanceof Date && !Number.isNaN(value.getTime()),
    'a valid Date',
  );
}
