/**
 * The hand-written schema of retry-options-schema.ts against the one it replaced, built from
 * core's small validator (kept here as the reference): on generated options, valid and not, both
 * report the same issues (messages and paths, in order), and options both accept compile to the
 * plan the reference's output stood for (defaults and deprecated names included).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { systemClock } from '../clock/system-clock.js';
import * as v from '../options/small-validator.js';
import type { StandardSchemaV1 } from '../options/standard-schema.js';
import { type RetryPresetName, retryPresets } from './backoff-schedule.js';
import { classifyError, type ErrorClassifier } from './classify-error.js';
import { isRetrySafeRequest, type RetryRequest } from './idempotency-guard.js';
import { clearPlanCache } from './plan-cache.js';
import { createRetryBudget, type RetryBudget } from './retry-budget.js';
import {
  type GiveUpEvent,
  isBudget,
  isDeadlineMs,
  type RetryEvent,
  type RetryEvents,
  type RetryOptions,
} from './retry-options.js';
import { callOptionsIssues, retryOptionsIssues, validCallValues } from './retry-options-schema.js';
import { type CompiledCall, compileRetryCall } from './retry-plan.js';

// The reference: retry()'s options schema as it was written with the small validator.

const delaySchema = v.durationMs();

const headersSchema = v.custom<NonNullable<RetryRequest['headers']>>(
  (value) => typeof value === 'object' && value !== null,
  'Headers, a header record or [name, value] pairs',
);

// Read by shape, not strict: a `Request` may be passed as it is.
const requestSchema = v.object(
  {
    method: v.string({ minLength: 1 }),
    idempotencyKey: v.optional(v.string()),
    headers: v.optional(headersSchema),
  },
  { unknownKeys: 'strip' },
);

// A number is a duration from the call. Epoch milliseconds (`Date.now() + 30_000`, about 1.7e12)
// are far above the longest timer, so that mistake is refused instead of timing out at once.
const deadlineSchema = v.union(
  v.date(),
  v.custom<number>(
    isDeadlineMs,
    'ms from now (0 < ms ≤ 2147483647); pass a Date for an absolute time',
  ),
);

const callShape = {
  signal: v.optional(v.abortSignal()),
  deadline: v.optional(deadlineSchema),
  request: v.optional(requestSchema),
};

const callSchema = v.object(callShape);

/** New name → deprecated name; `on.retry`/`on.giveUp` replace `onRetry`/`onGiveUp`. */
const renamed = [
  ['timeoutMs', 'timeout'],
  ['maxDelayMs', 'maxDelay'],
  ['delaysMs', 'delays'],
] as const;

const checkedOptionsSchema = v.refine(
  v.object({
    ...callShape,
    preset: v.optional(v.literal(...(Object.keys(retryPresets) as [RetryPresetName]))),
    delaysMs: v.optional(v.array(delaySchema, { minLength: 1 })),
    delays: v.optional(v.array(delaySchema, { minLength: 1 })),
    backoff: v.optional(
      v.object({
        initialDelayMs: v.optional(delaySchema),
        initialDelay: v.optional(delaySchema),
        factor: v.optional(v.number({ min: 1, max: 100 }), 2),
      }),
    ),
    retries: v.optional(v.number({ integer: true, min: 0, max: 1_000 })),
    maxDelayMs: v.optional(delaySchema),
    maxDelay: v.optional(delaySchema),
    jitter: v.optional(v.literal('equal', 'full', 'none'), 'equal'),
    random: v.optional(v.func<() => number>('a function returning a number in [0, 1)')),
    clock: v.optional(v.clock(), systemClock),
    timeoutMs: v.optional(v.number({ greaterThan: 0 })),
    timeout: v.optional(v.number({ greaterThan: 0 })),
    classify: v.optional(v.func<ErrorClassifier>('a classifier function')),
    budget: v.optional(v.custom<RetryBudget>(isBudget, 'a RetryBudget from createRetryBudget()')),
    on: v.optional(
      v.object({
        retry: v.optional(v.func<RetryEvents['retry']>()),
        giveUp: v.optional(v.func<RetryEvents['giveUp']>()),
      }),
    ),
    onRetry: v.optional(v.func<(event: RetryEvent) => void>()),
    onGiveUp: v.optional(v.func<(event: GiveUpEvent) => void>()),
  }),
  (options) => {
    for (const [key, old] of renamed) {
      if (options[key] !== undefined && options[old] !== undefined) {
        return { path: [old], message: `use ${key} alone (${old} is its deprecated name)` };
      }
    }
    if (
      options.backoff?.initialDelayMs !== undefined &&
      options.backoff.initialDelay !== undefined
    ) {
      return {
        path: ['backoff', 'initialDelay'],
        message: 'use initialDelayMs alone (initialDelay is its deprecated name)',
      };
    }
    if (options.on?.retry !== undefined && options.onRetry !== undefined) {
      return { path: ['onRetry'], message: 'use on.retry alone (onRetry is its deprecated name)' };
    }
    if (options.on?.giveUp !== undefined && options.onGiveUp !== undefined) {
      return {
        path: ['onGiveUp'],
        message: 'use on.giveUp alone (onGiveUp is its deprecated name)',
      };
    }
    const chosen = (['preset', 'delaysMs', 'delays', 'backoff'] as const).filter(
      (key) => options[key] !== undefined,
    );
    return chosen.length > 1
      ? { path: [chosen[1] ?? 'delaysMs'], message: `choose one schedule: ${chosen.join(' or ')}` }
      : undefined;
  },
);

function foldRetryNames(options: v.Infer<typeof checkedOptionsSchema>) {
  const { timeoutMs, maxDelayMs, maxDelay, on, backoff, delaysMs, ...rest } = options;
  return {
    ...rest,
    delays: delaysMs ?? options.delays,
    ...(backoff === undefined
      ? {}
      : {
          backoff: {
            initialDelay: backoff.initialDelayMs ?? backoff.initialDelay ?? 500,
            factor: backoff.factor,
          },
        }),
    maxDelay: maxDelayMs ?? maxDelay ?? 30_000,
    timeout: timeoutMs ?? options.timeout,
    onRetry: on?.retry ?? options.onRetry,
    onGiveUp: on?.giveUp ?? options.onGiveUp,
  };
}

const referenceSchema = v.transform(checkedOptionsSchema, foldRetryNames);

/** The reference's issues as `INVALID_OPTIONS` lists them: the field's dotted path, the problem. */
function issuesOf(schema: StandardSchemaV1, input: unknown) {
  const result = schema['~standard'].validate(input) as StandardSchemaV1.Result<unknown>;
  return result.issues?.map(({ message, path = [] }) => ({
    field:
      path.length === 0
        ? '(options)'
        : path
            .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
            .join('.'),
    problem: message,
  }));
}

/** What a compiled plan does, in comparable form (schedules as their first nominal delays). */
function describePlan({ plan, scope }: CompiledCall) {
  return {
    retries: plan.retries,
    delays: [0, 1, 2, 3, 4].map((index) => plan.nominal(index)),
    jitter: plan.jitter,
    random: plan.random,
    maxDelay: plan.maxDelay,
    clock: plan.clock,
    timeout: plan.timeout,
    defaultClassifier: plan.classify === classifyError,
    budget: plan.budget,
    onRetry: plan.onRetry,
    onGiveUp: plan.onGiveUp,
    signal: scope.signal,
    deadlines: scope.deadlines,
    retrySafe: scope.retrySafe,
  };
}

/** The plan the reference's folded output stands for, as retry-plan.ts used to build it. */
function referencePlan(folded: ReturnType<typeof foldRetryNames>) {
  const { backoff, maxDelay } = folded;
  const list = folded.delays ?? retryPresets[folded.preset ?? 'mutation'];
  const nominal = (index: number) =>
    backoff
      ? Math.min(backoff.initialDelay * backoff.factor ** index, maxDelay)
      : Math.min(list[Math.min(index, list.length - 1)] as number, maxDelay);
  return {
    retries: folded.retries ?? (backoff ? 3 : list.length),
    delays: [0, 1, 2, 3, 4].map(nominal),
    jitter: folded.jitter,
    random: folded.random ?? Math.random,
    maxDelay,
    clock: folded.clock,
    timeout: folded.timeout ?? Number.POSITIVE_INFINITY,
    defaultClassifier: folded.classify === undefined,
    budget: folded.budget,
    onRetry: folded.onRetry,
    onGiveUp: folded.onGiveUp,
    signal: folded.signal,
    deadlines: folded.deadline === undefined ? [] : [folded.deadline],
    retrySafe: folded.request === undefined || isRetrySafeRequest(folded.request),
  };
}

const fn = () => 0.5;
/** Mostly valid values, with the invalid kinds each rule must tell apart. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: invalid });
const oddValues = fc.constantFrom(
  null,
  'x',
  '',
  true,
  [],
  [1],
  {},
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  0,
  1.5,
  101,
  1_001,
  2_147_483_648,
  fn,
);
const numbers = mostly(fc.constantFrom(0, 1, 2, 250, 1_000, 2_147_483_647), oddValues);
const delayLists = mostly(
  fc.array(numbers, { minLength: 1, maxLength: 3 }),
  // biome-ignore lint/suspicious/noSparseArray: a sparse array is one of the inputs under test
  fc.oneof(oddValues, fc.constant([, 100])),
);
const functions = mostly(fc.constant(fn), oddValues);
const optionValues = {
  signal: mostly(fc.constant(new AbortController().signal), oddValues),
  deadline: mostly(
    fc.constantFrom(1_000, new Date(0)),
    fc.oneof(oddValues, fc.constantFrom(new Date(Number.NaN), Date.now())),
  ),
  request: mostly(
    fc.constantFrom(
      { method: 'GET' },
      { method: 'POST', idempotencyKey: 'k', other: 1 },
      { method: 'POST', headers: [['idempotency-key', 'k']] },
      new Request('https://api.test/', { method: 'PUT' }),
    ),
    fc.oneof(
      oddValues,
      fc.record(
        {
          method: fc.oneof(oddValues, fc.constant(undefined)),
          idempotencyKey: oddValues,
          headers: oddValues,
        },
        { requiredKeys: [] },
      ),
    ),
  ),
  preset: mostly(
    fc.constantFrom('mutation', 'read'),
    fc.oneof(oddValues, fc.constantFrom('fast', 'toString')),
  ),
  delaysMs: delayLists,
  delays: delayLists,
  backoff: mostly(
    fc.record(
      { initialDelayMs: numbers, initialDelay: numbers, factor: numbers },
      { requiredKeys: [] },
    ),
    fc.oneof(oddValues, fc.constant({ factor: 2, extra: true })),
  ),
  retries: numbers,
  maxDelayMs: numbers,
  maxDelay: numbers,
  jitter: mostly(
    fc.constantFrom('equal', 'full', 'none'),
    fc.oneof(oddValues, fc.constant('some')),
  ),
  random: functions,
  clock: mostly(
    fc.constantFrom(systemClock, new ManualClock()),
    fc.oneof(oddValues, fc.constant({ now: () => 0 })),
  ),
  timeoutMs: numbers,
  timeout: numbers,
  classify: functions,
  budget: mostly(fc.constant(createRetryBudget({ clock: new ManualClock() })), oddValues),
  on: mostly(
    fc.record({ retry: functions, giveUp: functions }, { requiredKeys: [] }),
    fc.oneof(oddValues, fc.constant({ retry: fn, typo: fn })),
  ),
  onRetry: functions,
  onGiveUp: functions,
  retrys: fc.constantFrom(undefined, 3),
};
const optionsArbitrary = fc.record(optionValues, { requiredKeys: [] });

const optionKeys = Object.keys(optionValues);

/** Options with a few keys, so that many are valid, and with many, so that problems pile up. */
const inputs = fc.oneof(
  { weight: 1, arbitrary: oddValues },
  { weight: 10, arbitrary: optionsArbitrary },
  {
    weight: 10,
    arbitrary: fc
      .tuple(optionsArbitrary, fc.shuffledSubarray(optionKeys, { maxLength: 3 }))
      .map(([options, keys]) =>
        Object.fromEntries(Object.entries(options).filter(([key]) => keys.includes(key))),
      ),
  },
);

describe("retry()'s options schema", () => {
  it('reports what the small-validator schema reported, and accepts what it accepted', () => {
    let accepted = 0;
    fc.assert(
      fc.property(inputs, (input) => {
        const expected = referenceSchema['~standard'].validate(input);
        if (expected instanceof Promise) throw new Error('the reference is synchronous');
        expect(retryOptionsIssues(input)).toEqual(issuesOf(referenceSchema, input));
        if (expected.issues !== undefined) return;
        accepted++;
        // Accepted options compile to the plan the reference's output made.
        clearPlanCache();
        const compiled = compileRetryCall(input as RetryOptions, 'retry()');
        expect(describePlan(compiled)).toEqual(referencePlan(expected.value));
      }),
      { numRuns: 3_000 },
    );
    // The comparison covered accepted options too, not only failures.
    expect(accepted).toBeGreaterThan(300);
  });

  it('reports every problem at once, unknown keys first, and a cross-field rule once fields are valid', () => {
    expect(retryOptionsIssues({ retrys: 3, retries: -1, delaysMs: [1, 'x'] })).toEqual([
      { field: 'retrys', problem: 'unknown option' },
      { field: 'delaysMs.1', problem: 'expected a duration in ms, received string' },
      { field: 'retries', problem: 'must be at least 0' },
    ]);
    expect(retryOptionsIssues({ preset: 'read', backoff: {} })).toEqual([
      { field: 'backoff', problem: 'choose one schedule: preset or backoff' },
    ]);
    expect(retryOptionsIssues({ backoff: { initialDelayMs: 1, initialDelay: 2 } })).toEqual([
      {
        field: 'backoff.initialDelay',
        problem: 'use initialDelayMs alone (initialDelay is its deprecated name)',
      },
    ]);
    expect(retryOptionsIssues('read')).toEqual([
      { field: '(options)', problem: 'expected an options object, received string' },
    ]);
  });

  it('checks call options and call values with the same rules', () => {
    const callInputs = [
      {},
      { signal: new AbortController().signal, deadline: 5, request: { method: 'GET' } },
      { signal: {} },
      { deadline: Date.now() },
      { request: { method: '' } },
      { request: {} },
      { request: { method: 'POST', headers: 'k' } },
    ];
    for (const input of callInputs) {
      const issues = callOptionsIssues(input);
      expect(validCallValues(input)).toBe(issues === undefined);
      expect(issues).toEqual(issuesOf(callSchema, input));
    }
    expect(callOptionsIssues({ preset: 'read' })).toEqual([
      { field: 'preset', problem: 'unknown option' },
    ]);
  });
});
