import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { systemClock } from '../clock/system-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { cachedPlan, clearPlanCache } from './plan-cache.js';
import { retry } from './retry.js';
import { createRetryBudget } from './retry-budget.js';
import type { RetryOptions } from './retry-options.js';
import { type CompiledCall, compileRetryCall } from './retry-plan.js';

afterEach(clearPlanCache);

/** What a compiled call does, in comparable form (schedules as their first delays). */
function describeCall({ plan, scope }: CompiledCall) {
  return {
    retries: plan.retries,
    delays: [0, 1, 2, 3, 4].map((index) => plan.nominal(index)),
    jitter: plan.jitter,
    random: plan.random,
    maxDelay: plan.maxDelay,
    clock: plan.clock,
    timeout: plan.timeout,
    budget: plan.budget,
    onRetry: plan.onRetry,
    onGiveUp: plan.onGiveUp,
    signal: scope.signal,
    deadlines: scope.deadlines,
    retrySafe: scope.retrySafe,
  };
}

/** The compiled call's description, or the field INVALID_OPTIONS named. */
function outcome(options: unknown) {
  try {
    return describeCall(compileRetryCall(options as RetryOptions, 'retry()'));
  } catch (error) {
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    return { invalid: (error as { details: { field: string } }).details.field };
  }
}

const fn = () => 0.5;
/** Mostly valid values, so that most options objects are accepted and cached. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: invalid });
const numbers = mostly(
  fc.constantFrom(0, 1, 250),
  fc.constantFrom(2_147_483_648, -1, 1.5, Number.NaN, '5', null),
);
// One schedule at most, mostly: two schedules are refused whatever their values.
const schedules = {
  preset: mostly(fc.constantFrom('mutation', 'read'), fc.constantFrom('fast', 'toString')),
  // biome-ignore lint/suspicious/noSparseArray: a sparse array is one of the inputs under test
  delays: mostly(fc.array(numbers, { minLength: 1, maxLength: 3 }), fc.constant([, 100])),
  delaysMs: mostly(fc.array(numbers, { minLength: 1, maxLength: 3 }), fc.constant([])),
  backoff: mostly(
    fc.record({ initialDelayMs: numbers, factor: numbers }, { requiredKeys: [] }),
    fc.constantFrom({ factor: 2, extra: true }, { initialDelayMs: 1, initialDelay: 1 }),
  ),
};
const values = {
  retries: numbers,
  maxDelayMs: numbers,
  timeoutMs: numbers,
  on: mostly(
    fc.constantFrom({ retry: fn }, { giveUp: fn, retry: undefined }, {}),
    fc.constant({ retry: 'log' }),
  ),
  jitter: mostly(fc.constantFrom('equal', 'none'), fc.constant('some')),
  clock: mostly(fc.constantFrom(systemClock, new ManualClock()), fc.constant({ now: () => 0 })),
  budget: mostly(fc.constant(createRetryBudget({ clock: new ManualClock() })), fc.constant({})),
  onRetry: mostly(fc.constant(fn), fc.constant('log')),
  retrys: mostly(fc.constant(undefined), fc.constant(3)),
};
const callValues = {
  signal: mostly(fc.constant(new AbortController().signal), fc.constant({})),
  deadline: mostly(
    fc.constantFrom(1_000, new Date(0)),
    fc.constantFrom(new Date(Number.NaN), Date.now()),
  ),
  request: mostly(
    fc.constantFrom(
      { method: 'GET' },
      { method: 'POST', idempotencyKey: 'k' },
      new Request('https://api.test/', { method: 'PUT' }),
    ),
    fc.constantFrom({ method: '' }, { method: 'POST', headers: 'k' }),
  ),
};
const optionsArbitrary = fc
  .tuple(
    fc.record(values, { requiredKeys: [] }),
    fc.oneof(
      fc.constant({}),
      ...Object.entries(schedules).map(([key, value]) => value.map((v) => ({ [key]: v }))),
      fc.record(schedules, { requiredKeys: [] }),
    ),
  )
  .map(([options, schedule]) => ({ ...options, ...schedule }));
const keys = [...Object.keys(values), ...Object.keys(schedules)];
const callArbitrary = fc.record(callValues, { requiredKeys: [] });

describe('the plan cache', () => {
  it('gives every options object the answer a fresh validation gives', () => {
    fc.assert(
      fc.property(
        fc.array(optionsArbitrary, { minLength: 3, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(2), callArbitrary, fc.option(fc.constantFrom(...keys))), {
          minLength: 1,
          maxLength: 10,
        }),
        (pool, steps) => {
          clearPlanCache();
          // Copies of a few option objects, each with its own call values (the cache's hits),
          // some with one key left out (near misses).
          const inputs = steps.map(([index, call, without]) => {
            const input: Record<string, unknown> = { ...pool[index], ...call };
            if (without !== null) delete input[without];
            return input;
          });
          const cached = inputs.map(outcome);
          const fresh = inputs.map((input) => {
            clearPlanCache();
            return outcome(input);
          });
          expect(cached).toEqual(fresh);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reuses the plan of equal values written anew, signal, deadline and request aside', () => {
    const options = { preset: 'read', on: { retry: fn }, delays: undefined } as const;
    const first = compileRetryCall({ ...options }, 'retry()');
    const signal = new AbortController().signal;
    const again = { ...options, on: { retry: fn }, signal, deadline: 5_000 };
    expect(cachedPlan(again)).toBe(first.plan);
    expect(compileRetryCall(again, 'retry()').scope).toMatchObject({ signal, deadlines: [5_000] });
  });

  it('misses on another value, an extra key, or a key with undefined in place of another', () => {
    compileRetryCall({ retries: undefined, backoff: { factor: 3 } }, 'retry()');
    expect(cachedPlan({ retries: undefined, backoff: { factor: 3 } })).toBeDefined();
    expect(cachedPlan({ retries: 2, backoff: { factor: 3 } })).toBeUndefined();
    expect(cachedPlan({ retries: undefined, backoff: { factor: 3, extra: 1 } })).toBeUndefined();
    expect(cachedPlan({ retrys: undefined, backoff: { factor: 3 } })).toBeUndefined();
    expect(cachedPlan({ retries: undefined })).toBeUndefined();
    expect(() =>
      compileRetryCall({ retrys: undefined, backoff: { factor: 3 } } as RetryOptions, 'retry()'),
    ).toThrow(/"retrys": unknown option/);
  });

  it('notices an array or object changed in place after it was validated', async () => {
    const delays = [100, 200];
    compileRetryCall({ delays }, 'retry()');
    delays[1] = -5;
    await expect(retry(async () => 'ok', { delays })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'delays.1' },
    });
    const backoff: { initialDelayMs: number; factor?: number } = { initialDelayMs: 10 };
    compileRetryCall({ backoff }, 'retry()');
    backoff.factor = 0;
    expect(() => compileRetryCall({ backoff }, 'retry()')).toThrow(/"backoff.factor"/);
  });

  it('checks signal, deadline and request on every call, even on a hit', async () => {
    const options = { preset: 'read' as const };
    await retry(async () => 'ok', { ...options, signal: new AbortController().signal });
    await expect(
      retry(async () => 'ok', { ...options, signal: {} as AbortSignal }),
    ).rejects.toMatchObject({ details: { field: 'signal' } });
    await expect(retry(async () => 'ok', { ...options, deadline: Date.now() })).rejects.toThrow(
      /pass a Date/,
    );
    await expect(
      retry(async () => 'ok', { ...options, request: { method: '' } }),
    ).rejects.toMatchObject({ details: { field: 'request.method' } });
  });

  it('compiles an object or array given after the same key was given as undefined', async () => {
    await retry(async () => 'ok', { backoff: undefined, on: undefined, delaysMs: undefined });
    const onRetry = () => {};
    expect(cachedPlan({ backoff: { factor: 3 }, on: { retry: onRetry }, delaysMs: [1] })).toBe(
      undefined,
    );
    await expect(
      retry(async () => 'ok', { backoff: { factor: 3 }, on: undefined, delaysMs: undefined }),
    ).resolves.toBe('ok');
    await expect(
      retry(async () => 'ok', { backoff: undefined, on: { retry: onRetry }, delaysMs: undefined }),
    ).resolves.toBe('ok');
  });

  it('never lets an array stand for an empty options object', async () => {
    await retry(async () => 'ok', {});
    await expect(retry(async () => 'ok', [] as never)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: '(options)' },
    });
  });

  it('holds a bounded number of shapes', () => {
    for (let retries = 0; retries < 50; retries++) compileRetryCall({ retries }, 'retry()');
    expect(cachedPlan({ retries: 49 })).toBeDefined();
    expect(cachedPlan({ retries: 0 })).toBeUndefined();
  });
});
