/**
 * The schema of `retry()`'s options, written by hand: the authority on what is valid, and the
 * source of every `INVALID_OPTIONS` message of `retry()` and `retryPolicy()`.
 *
 * Why not core's small validator (`v.object(…)`), as the other policies use: `retry` is the one
 * import every browser page makes, and its budget is 5 kB min+gzip (issue 13). Built from the
 * validator's combinators, this schema and the combinators it pulled in weighed 2.2 kB of it.
 * The rules and messages are the validator's, issue for issue (retry-options-schema.test.ts
 * compares the two on generated options): unknown keys are refused, every problem is reported
 * with its field, and the rules across fields run once every field is valid. It names each
 * problem's field as `INVALID_OPTIONS` lists it (`backoff.factor`, `delaysMs.1`), and
 * retry-plan.ts throws them with `optionsError()`, the helper under `parseOptions()`, so the
 * error reads as every other; building paths for `parseOptions()` to join again weighed
 * 0.05 kB. It is not wrapped as a Standard Schema because nothing but `retry()` reads it, and
 * the wrapper and its asynchronous case weighed 0.06 kB. The options are used as they were
 * given; `buildPlan()` (retry-plan.ts) reads the deprecated names and the defaults.
 */
import type { FieldProblem } from '../options/parse-options.js';
import { isAbortSignalLike, isClockLike } from '../options/shape-checks.js';
import { retryPresets } from './backoff-schedule.js';
import { isBudget, isDeadlineMs, type RetryOptions } from './retry-options.js';

/** A problem with the options and the field it is in: what `INVALID_OPTIONS` lists. */
export type Issue = FieldProblem;

type Bag = Record<string, unknown>;

/** Records a problem in `field` (an index or a dotted path) of the value a rule is checking. */
type Report = (problem: string, field: string | number) => void;

/**
 * Checks a value that is not `undefined` (an absent option is always fine): returns the problem
 * with it, or reports its nested problems (a list's items, an object's fields) under it.
 */
type Rule = (value: unknown, report: Report) => string | undefined;

const isBag = (value: unknown): value is Bag =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const wrongKind = (expected: string, value: unknown) =>
  `expected ${expected}, received ${
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'an array'
        : Number.isNaN(value)
          ? 'NaN'
          : typeof value
  }`;

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
    if (value > max) return `must be at most ${max}`;
  };
}

/** A value `accepts` takes; otherwise `expected …`. */
/* @__NO_SIDE_EFFECTS__ */
function shaped(accepts: (value: unknown) => boolean, expected: string): Rule {
  return (value) => (accepts(value) ? undefined : `expected ${expected}`);
}

/* @__NO_SIDE_EFFECTS__ */
function func(expected = 'a function'): Rule {
  return shaped((value) => typeof value === 'function', expected);
}

/** One of `values`, plain names quoted as JSON would (`one of "equal", "full", "none"`). */
/* @__NO_SIDE_EFFECTS__ */
function oneOf(values: readonly string[]): Rule {
  return shaped((value) => values.includes(value as string), `one of "${values.join('", "')}"`);
}

/**
 * Checks `input`'s fields against `rules`, in the rules' order; unknown keys come first, as
 * problems, unless `strip`.
 */
function checkFields(input: Bag, rules: Record<string, Rule>, report: Report, strip?: boolean) {
  if (!strip) {
    for (const key in input) {
      if (!Object.hasOwn(rules, key)) report('unknown option', key);
    }
  }
  for (const key in rules) {
    const value = input[key];
    const problem =
      value === undefined
        ? undefined
        : (rules[key] as Rule)(value, (problem, field) => report(problem, `${key}.${field}`));
    if (problem) report(problem, key);
  }
}

/** An object whose fields follow `rules`. */
/* @__NO_SIDE_EFFECTS__ */
function fields(rules: Record<string, Rule>, strip?: boolean): Rule {
  return (value, report) => {
    if (!isBag(value)) return wrongKind('an options object', value);
    checkFields(value, rules, report, strip);
  };
}

/** The longest delay a JavaScript timer honours: 2³¹−1 ms. */
const duration = numberIn('a duration in ms', 0, 2_147_483_647);
const positive = numberIn('a number', 0, Infinity, false, true);

/** A list of at least one delay. */
const delayList: Rule = (value, report) => {
  if (!Array.isArray(value)) return wrongKind('an array', value);
  if (value.length === 0) return 'must have at least 1 items';
  // An index loop, not `forEach`, which would skip the holes of a sparse array.
  for (let index = 0; index < value.length; index++) {
    const problem = duration(value[index], report);
    if (problem) report(problem, index);
  }
};

const string = (value: unknown) =>
  typeof value === 'string' ? undefined : wrongKind('a string', value);

/** Read by shape, not strictly: a `Request` may be passed as it is. Its `method` is required. */
const requestFields = fields(
  {
    method: (value) => string(value) ?? (value === '' ? 'must not be empty' : undefined),
    idempotencyKey: string,
    headers: shaped(
      (value) => typeof value === 'object' && value !== null,
      'Headers, a header record or [name, value] pairs',
    ),
  },
  true,
);

const request: Rule = (value, report) => {
  // What `method`'s rule says of an absent method, which checkFields() would skip.
  if (isBag(value) && value.method === undefined) report(string(undefined) as string, 'method');
  return requestFields(value, report);
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

/** The options that belong to one call, not to the plan: `signal`, `deadline`, `request`. */
export const callRules: Record<string, Rule> = {
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

/**
 * A field given under both its name and its deprecated one (`timeoutMs` and `timeout`), in
 * `bag`; `value` is the one under the current name when it lives elsewhere (`on.retry`).
 */
function both(
  bag: Bag,
  name: string,
  old: string,
  value = bag[name],
  field = old,
): Issue | undefined {
  return value === undefined || bag[old] === undefined
    ? undefined
    : { field, problem: `use ${name} alone (${old} is its deprecated name)` };
}

/** The rules across fields, for options whose every field is valid. */
function crossFieldIssue(options: Bag): Issue | undefined {
  const { backoff = {}, on = {} } = options as RetryOptions;
  const chosen = ['preset', 'delaysMs', 'delays', 'backoff'].filter(
    (key) => options[key] !== undefined,
  );
  return (
    both(options, 'timeoutMs', 'timeout') ??
    both(options, 'maxDelayMs', 'maxDelay') ??
    both(options, 'delaysMs', 'delays') ??
    both(backoff as Bag, 'initialDelayMs', 'initialDelay', undefined, 'backoff.initialDelay') ??
    both(options, 'on.retry', 'onRetry', on.retry) ??
    both(options, 'on.giveUp', 'onGiveUp', on.giveUp) ??
    (chosen.length > 1
      ? { field: chosen[1] as string, problem: `choose one schedule: ${chosen.join(' or ')}` }
      : undefined)
  );
}

/**
 * The problems `rules` find in `input`, then, for options whose every field is valid, the one
 * `crossField` finds; `undefined` when there are none.
 */
function issuesOf<Options>(
  input: unknown,
  rules: Record<string, Rule>,
  crossField?: (options: Options) => Issue | undefined,
): Issue[] | undefined {
  const issues: Issue[] = [];
  // A field's problem comes from checkFields(), which names it by its key, a string.
  const problem = fields(rules)(input, (problem, field) =>
    issues.push({ field: field as string, problem }),
  );
  if (problem) issues.push({ field: '(options)', problem });
  if (issues.length > 0) return issues;
  const across = crossField?.(input as Options);
  return across && [across];
}

/** The problems with `input` as `retry()`'s or `retryPolicy()`'s options; none when valid. */
export const retryOptionsIssues = (input: unknown): Issue[] | undefined =>
  issuesOf(input, retryRules, crossFieldIssue);

/** The problems with `input` as a policy's per-call options: `signal`, `deadline`, `request`. */
export const callOptionsIssues = (input: unknown): Issue[] | undefined =>
  issuesOf(input, callRules);

/**
 * Whether a call's `signal`, `deadline` and `request` pass their rules, without building a
 * message: the check of a call that reuses a compiled plan (see plan-cache.ts).
 */
export function validCallValues(input: Bag): boolean {
  let valid = true;
  checkFields(
    input,
    callRules,
    () => {
      valid = false;
    },
    true,
  );
  return valid;
}
