/**
 * The schema of `retry()`'s options, written by hand: the authority on what is valid, and the
 * source of every `INVALID_OPTIONS` message of `retry()` and `retryPolicy()`.
 *
 * Why not core's small validator (`v.object(…)`), as the other policies use: `retry` is the one
 * import every browser page makes, and its budget is 5 kB min+gzip (issue 13). Built from the
 * validator's combinators, this schema and the combinators it pulled in weighed 2.2 kB of it.
 * The rules and messages are the validator's, issue for issue (retry-options-schema.test.ts
 * compares the two on generated options): unknown keys are refused, every problem is reported
 * with its path, and the rules across fields run once every field is valid. It is a Standard
 * Schema, so it goes through `parseOptions()` like every other options schema. Its output is
 * the input itself; `buildPlan()` (retry-plan.ts) reads the deprecated names and the defaults.
 */
import { isAbortSignalLike, isClockLike } from '../options/shape-checks.js';
import type { StandardSchemaV1 } from '../options/standard-schema.js';
import { retryPresets } from './backoff-schedule.js';
import {
  isBudget,
  isDeadlineMs,
  type RetryCallOptions,
  type RetryOptions,
} from './retry-options.js';

interface Issue {
  readonly message: string;
  readonly path: PropertyKey[];
}

type Bag = Record<string, unknown>;

/**
 * Checks a value that is not `undefined` (an absent option is always fine): returns the problem
 * with it, or pushes its nested problems onto `issues` (a list's items, an object's fields) with
 * paths under `[...parent, key]`, built only for a nested value or when something fails.
 */
type Rule = (
  value: unknown,
  issues: Issue[],
  parent: readonly PropertyKey[],
  key: PropertyKey,
) => string | undefined;

const isBag = (value: unknown): value is Bag =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function received(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return Number.isNaN(value) ? 'NaN' : typeof value;
}

const wrongKind = (expected: string, value: unknown) =>
  `expected ${expected}, received ${received(value)}`;

// The rule factories are marked free of side effects so that a bundler drops the rules built from
// them when `retry` is not imported, even from core's single-file build.

/** A finite number from `min` (or above it, with `above`) to `max`. */
/* @__NO_SIDE_EFFECTS__ */
function numberIn(
  expected: string,
  min: number,
  max: number,
  integer?: boolean,
  above?: boolean,
): Rule {
  return (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return wrongKind(expected, value);
    if (integer && !Number.isInteger(value)) return 'must be an integer';
    if (above ? value <= min : value < min) {
      return `must be ${above ? 'greater than' : 'at least'} ${min}`;
    }
    return value > max ? `must be at most ${max}` : undefined;
  };
}

/** A value `accepts` takes; otherwise `expected …`. */
/* @__NO_SIDE_EFFECTS__ */
function shaped(accepts: (value: unknown) => boolean, expected: string): Rule {
  return (value) => (accepts(value) ? undefined : `expected ${expected}`);
}

const isFunction = (value: unknown) => typeof value === 'function';

/* @__NO_SIDE_EFFECTS__ */
function func(expected = 'a function'): Rule {
  return shaped(isFunction, expected);
}

/* @__NO_SIDE_EFFECTS__ */
function oneOf(values: readonly string[]): Rule {
  return shaped(
    (value) => values.includes(value as string),
    `one of ${values.map((value) => JSON.stringify(value)).join(', ')}`,
  );
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Checks `input`'s fields against `rules`; strict unless `strip` (unknown keys are problems). */
function checkFields(
  input: Bag,
  rules: Record<string, Rule>,
  issues: Issue[],
  path: readonly PropertyKey[],
  strip?: boolean,
): void {
  if (!strip) {
    for (const key in input) {
      if (!hasOwn.call(rules, key))
        issues.push({ message: 'unknown option', path: [...path, key] });
    }
  }
  for (const key in rules) {
    const value = input[key];
    const problem =
      value === undefined ? undefined : (rules[key] as Rule)(value, issues, path, key);
    if (problem !== undefined) issues.push({ message: problem, path: [...path, key] });
  }
}

/** An object whose fields follow `rules`. */
/* @__NO_SIDE_EFFECTS__ */
function fields(rules: Record<string, Rule>): Rule {
  return (value, issues, parent, key) => {
    if (!isBag(value)) return wrongKind('an options object', value);
    checkFields(value, rules, issues, [...parent, key]);
  };
}

/** The longest delay a JavaScript timer honours: 2³¹−1 ms. */
const duration = numberIn('a duration in ms', 0, 2_147_483_647);
const positive = numberIn('a number', 0, Number.POSITIVE_INFINITY, false, true);

/** A list of at least one delay. */
const delayList: Rule = (value, issues, parent, key) => {
  if (!Array.isArray(value)) return wrongKind('an array', value);
  if (value.length === 0) return 'must have at least 1 items';
  // An index loop, not `map`, which would skip the holes of a sparse array.
  for (let index = 0; index < value.length; index++) {
    const message = duration(value[index], issues, parent, key);
    if (message !== undefined) issues.push({ message, path: [...parent, key, index] });
  }
};

const string: Rule = (value) =>
  typeof value === 'string' ? undefined : wrongKind('a string', value);

const requestRules: Record<string, Rule> = {
  method: (value) =>
    typeof value !== 'string'
      ? wrongKind('a string', value)
      : value === ''
        ? 'must not be empty'
        : undefined,
  idempotencyKey: string,
  headers: shaped(
    (value) => typeof value === 'object' && value !== null,
    'Headers, a header record or [name, value] pairs',
  ),
};

/** Read by shape, not strictly: a `Request` may be passed as it is. */
const request: Rule = (value, issues, parent, key) => {
  if (!isBag(value)) return wrongKind('an options object', value);
  const path = [...parent, key];
  if (value.method === undefined) {
    issues.push({ message: wrongKind('a string', undefined), path: [...path, 'method'] });
  }
  checkFields(value, requestRules, issues, path, true);
};

// A number is a duration from the call. Epoch milliseconds (`Date.now() + 30_000`, about 1.7e12)
// are far above the longest timer, so that mistake is refused instead of timing out at once.
const deadline: Rule = (value) =>
  (value instanceof Date && !Number.isNaN(value.getTime())) || isDeadlineMs(value)
    ? undefined
    : wrongKind(
        'a valid Date or ms from now (0 < ms ≤ 2147483647); pass a Date for an absolute time',
        value,
      );

const callRules: Record<string, Rule> = {
  signal: shaped(isAbortSignalLike, 'an AbortSignal'),
  deadline,
  request,
};

const retryRules: Record<string, Rule> = {
  ...callRules,
  preset: oneOf(/* @__PURE__ */ Object.keys(retryPresets)),
  delaysMs: delayList,
  delays: delayList,
  backoff: fields({
    initialDelayMs: duration,
    initialDelay: duration,
    factor: numberIn('a number', 1, 100),
  }),
  retries: numberIn('a number', 0, 1_000, true),
  maxDelayMs: duration,
  maxDelay: duration,
  jitter: oneOf(['equal', 'full', 'none']),
  random: func('a function returning a number in [0, 1)'),
  clock: shaped(isClockLike, 'a Clock (now, sleep, setTimer)'),
  timeoutMs: positive,
  timeout: positive,
  classify: func('a classifier function'),
  budget: shaped(isBudget, 'a RetryBudget from createRetryBudget()'),
  on: fields({ retry: func(), giveUp: func() }),
  onRetry: func(),
  onGiveUp: func(),
};

/** A field given under both its name and its deprecated one (`timeoutMs` and `timeout`). */
function both(
  name: string,
  value: unknown,
  old: string,
  oldValue: unknown,
  path?: PropertyKey[],
): Issue | undefined {
  return value === undefined || oldValue === undefined
    ? undefined
    : { path: path ?? [old], message: `use ${name} alone (${old} is its deprecated name)` };
}

/** The rules across fields, for options whose every field is valid. */
function crossFieldIssue(options: RetryOptions): Issue | undefined {
  const { backoff = {}, on = {} } = options;
  const chosen = (['preset', 'delaysMs', 'delays', 'backoff'] as const).filter(
    (key) => options[key] !== undefined,
  );
  return (
    both('timeoutMs', options.timeoutMs, 'timeout', options.timeout) ??
    both('maxDelayMs', options.maxDelayMs, 'maxDelay', options.maxDelay) ??
    both('delaysMs', options.delaysMs, 'delays', options.delays) ??
    both('initialDelayMs', backoff.initialDelayMs, 'initialDelay', backoff.initialDelay, [
      'backoff',
      'initialDelay',
    ]) ??
    both('on.retry', on.retry, 'onRetry', options.onRetry) ??
    both('on.giveUp', on.giveUp, 'onGiveUp', options.onGiveUp) ??
    (chosen.length > 1
      ? { path: [chosen[1] as string], message: `choose one schedule: ${chosen.join(' or ')}` }
      : undefined)
  );
}

/** The problems with `input` under `rules`; empty when it is valid. */
function issuesOf(input: unknown, rules: Record<string, Rule>): Issue[] {
  const issues: Issue[] = [];
  if (!isBag(input)) issues.push({ message: wrongKind('an options object', input), path: [] });
  else checkFields(input, rules, issues, []);
  return issues;
}

function standardSchema<Output>(
  validate: (value: unknown) => StandardSchemaV1.Result<Output>,
): StandardSchemaV1<unknown, Output> {
  return { '~standard': { version: 1, vendor: 'ballast', validate } };
}

/** `retry()`'s and `retryPolicy()`'s options. The output is the input, checked. */
export const retryOptionsSchema = /* @__PURE__ */ standardSchema<RetryOptions>((input) => {
  const issues = issuesOf(input, retryRules);
  const crossField = issues.length === 0 ? crossFieldIssue(input as RetryOptions) : undefined;
  if (crossField !== undefined) issues.push(crossField);
  return issues.length === 0 ? { value: input as RetryOptions } : { issues };
});

/** A policy's per-call options: `signal`, `deadline` and `request`. */
export const callOptionsSchema = /* @__PURE__ */ standardSchema<RetryCallOptions>((input) => {
  const issues = issuesOf(input, callRules);
  return issues.length === 0 ? { value: input as RetryCallOptions } : { issues };
});

/**
 * Whether a call's `signal`, `deadline` and `request` pass their rules, without building a
 * message: the check of a call that reuses a compiled plan (see plan-cache.ts).
 */
export function validCallValues(input: Bag): boolean {
  const issues: Issue[] = [];
  for (const key in callRules) {
    const value = input[key];
    if (value !== undefined && (callRules[key] as Rule)(value, issues, [], key) !== undefined) {
      return false;
    }
  }
  return issues.length === 0;
}
