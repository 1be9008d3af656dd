/**
 * The client's strict option checks: an unknown key, a missing or ill-typed field, a value out
 * of bounds → `BallastError('INVALID_OPTIONS')` naming the field and the function, with the
 * messages and `details` core's `parseOptions` + `v` produce for the same input.
 *
 * Why not core's `v`: it reaches the client as a namespace object, which bundlers keep whole
 * (every schema kind, plus the Standard Schema wrapper), and its top-level schema objects are
 * kept even by a page that never calls their function. These checks are only what the client's
 * options use, and each option set is built inside the function that parses it, so an unused
 * one is tree-shaken. Issue 15's bundle target (8 kB for fetch + connectivity + queue) needs it.
 */
import type { BallastError, Clock } from '@ballast/core';
import { clientError } from '../errors/client-error.js';

/** One problem: the dotted field (`retry.reads`, `(options)` for the whole) and what is wrong. */
export interface OptionIssue {
  field: string;
  problem: string;
}

/** Checks `value` found at `path`, adding problems to `issues`; returns it with defaults applied. */
export type Check<T> = (value: unknown, path: string, issues: OptionIssue[]) => T;

/** The output type of a check. */
type Output<C> = C extends Check<infer T> ? T : never;

const report = (issues: OptionIssue[], path: string, problem: string) => {
  issues.push({ field: path || '(options)', problem });
};

const child = (path: string, key: string | number) => (path ? `${path}.${key}` : `${key}`);

/** `expected a string, received number`: what a value of the wrong kind gets. */
function wrongKind(expected: string, value: unknown): string {
  const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  return `expected ${expected}, received ${Number.isNaN(value) ? 'NaN' : kind}`;
}

/** `must be at least 2`, `must have at most 20 items`, or `false` within `min`…`max`. */
const outOfRange = (size: number, min: number, max: number, unit = '', verb = 'be') =>
  size < min
    ? `must ${verb} at least ${min}${unit}`
    : size > max && `must ${verb} at most ${max}${unit}`;

/**
 * A value `test` accepts, else `expected <expected>`; when `bounds` is given the value must be
 * of a kind (the message adds what was received) and `bounds` names what else is wrong, if
 * anything.
 */
export const is =
  <T>(
    test: (value: unknown) => boolean,
    expected: string,
    bounds?: (value: T) => string | false,
  ): Check<T> =>
  (value, path, issues) => {
    const problem = test(value)
      ? bounds?.(value as T)
      : bounds
        ? wrongKind(expected, value)
        : `expected ${expected}`;
    if (problem) report(issues, path, problem);
    return value as T;
  };

/** Any value, `undefined` included (a request's body). */
export const anything: Check<unknown> = (value) => value;

/** Any function (`expected a function`, as core words it); its signature is TypeScript's business. */
export const func = <T>(): Check<T> => is<T>((value) => typeof value === 'function', 'a function');

/** A string from `minLength` to `maxLength` characters. */
export const string = (minLength: number, maxLength: number): Check<string> =>
  is<string>(
    (value) => typeof value === 'string',
    'a string',
    ({ length }) =>
      length < minLength && minLength === 1
        ? 'must not be empty'
        : outOfRange(length, minLength, maxLength, ' characters'),
  );

/** A finite number from `min` to `max`, an integer when `integer`. */
export const number = (
  min: number,
  max: number,
  integer = true,
  expected = 'a number',
): Check<number> =>
  is<number>(Number.isFinite, expected, (value) =>
    integer && !Number.isInteger(value) ? 'must be an integer' : outOfRange(value, min, max),
  );

/** A duration in ms from `min` to 2³¹−1 (a longer timer fires at once). */
export const duration = (min = 0): Check<number> =>
  number(min, 2_147_483_647, false, 'a duration in ms');

/** One of `values`, compared with `===`. */
export const oneOf = <const T extends string>(...values: T[]): Check<T> =>
  is<T>(
    (value) => values.includes(value as T),
    `one of ${values.map((value) => JSON.stringify(value)).join(', ')}`,
  );

/** An array of `minLength` to `maxLength` items, each passing `item`; the output is a new array. */
export function array<T>(item: Check<T>, minLength: number, maxLength: number): Check<T[]> {
  return (value, path, issues) => {
    const problem = Array.isArray(value)
      ? outOfRange(value.length, minLength, maxLength, ' items', 'have')
      : wrongKind('an array', value);
    if (problem) report(issues, path, problem);
    // Array.from, not map: a sparse array's holes are checked (and refused) too.
    return Array.isArray(value)
      ? Array.from(value, (entry, index) => item(entry, child(path, index), issues))
      : (value as T[]);
  };
}

/** `undefined` (an absent key) passes, as `fallback` when one is given. */
export function optional<T>(check: Check<T>): Check<T | undefined>;
export function optional<T>(check: Check<T>, fallback: NoInfer<T>): Check<T>;
export function optional<T>(check: Check<T>, fallback?: T): Check<T | undefined> {
  return (value, path, issues) => (value === undefined ? fallback : check(value, path, issues));
}

/**
 * An options object holding the keys of `shape` that have a value; any other key is an
 * `unknown option`. The input is never changed.
 */
export function object<Shape extends Record<string, Check<unknown>>>(
  shape: Shape,
): Check<{ [K in keyof Shape]: Output<Shape[K]> }> {
  return (value, path, issues) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      report(issues, path, wrongKind('an options object', value));
      return value as never;
    }
    const input = value as Record<string, unknown>;
    for (const key in input) {
      if (!Object.hasOwn(shape, key)) report(issues, child(path, key), 'unknown option');
    }
    const output: Record<string, unknown> = {};
    for (const key in shape) {
      const checked = (shape[key] as Check<unknown>)(input[key], child(path, key), issues);
      if (checked !== undefined) output[key] = checked;
    }
    return output as never;
  };
}

/**
 * Runs `check` on `input`; on any problem throws `INVALID_OPTIONS` whose message and
 * `details.field` name the first one, and `details.issues` lists them all.
 *
 * @param where the public function called, for the message (`'createClient()'`).
 */
export function parseOptions<T>(check: Check<T>, input: unknown, where: string): T {
  const issues: OptionIssue[] = [];
  const output = check(input, '', issues);
  const [first] = issues;
  if (first === undefined) return output;
  throw invalidOption(where, first.field, first.problem, issues);
}

/**
 * The `INVALID_OPTIONS` error for a wrong `field` of a call to `where`, worded as
 * {@link parseOptions} words it; `details.issues` lists every problem when given, and `cause`
 * is what made the value unusable (JSON.stringify's error), when there is one.
 */
export function invalidOption(
  where: string,
  field: string,
  problem: string,
  issues?: OptionIssue[],
  cause?: unknown,
): BallastError {
  return clientError('INVALID_OPTIONS', {
    message: `Invalid options for ${where}: "${field}": ${problem}`,
    details: issues ? { field, issues } : { field },
    cause,
  });
}

// Value kinds several option sets share. `@__PURE__` lets a bundler drop one no kept code uses.

/** Whether `value` is a non-null object. */
export const isObject = (value: unknown): value is object =>
  typeof value === 'object' && value !== null;

/** Whether `value` is an object with a function under each name of `methods`. */
export const hasMethods = (value: unknown, methods: readonly string[]): boolean =>
  isObject(value) &&
  methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');

/**
 * An object with the functions `methods` (a client, a connectivity), by shape so test doubles
 * are accepted; a wrong value is told what it lacks (`expected an object with request()`), in
 * words built from `methods` rather than a sentence for each (issue 15's bundle budget).
 */
export const withMethods = <T>(...methods: string[]): Check<T> =>
  is<T>((value) => hasMethods(value, methods), `an object with ${methods.join('(), ')}()`);

/** A `Clock` (`now`, `sleep`, `setTimer`), worded as core's checks word it. */
export const clockCheck: Check<Clock> = /* @__PURE__ */ is<Clock>(
  (value) => hasMethods(value, ['now', 'sleep', 'setTimer']),
  'a Clock (now, sleep, setTimer)',
);

// What `Headers` accepts (RFC 9110 token names; Latin-1 values without CR, LF or NUL): checked
// here so a bad header is INVALID_OPTIONS up front, not a TypeError on every send.
const headerName = /^[!#$%&'*+.^_`|~\w-]+$/;
const headerValue = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Header names to string values, each a header `Headers` takes. */
export const headerRecord: Check<Record<string, string>> = /* @__PURE__ */ is<
  Record<string, string>
>(
  (value) =>
    isObject(value) &&
    Object.entries(value).every(
      ([name, item]) => typeof item === 'string' && headerName.test(name) && headerValue.test(item),
    ),
  'a record of header names to string values',
);
