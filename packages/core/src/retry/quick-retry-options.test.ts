import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { systemClock } from '../clock/system-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { quickCallOptions, quickRetryOptions } from './quick-retry-options.js';
import { createRetryBudget } from './retry-budget.js';
import { strictCallOptions, strictRetryOptions } from './retry-options.js';

/** zod's answer: the parsed options, or undefined when it rejects them with INVALID_OPTIONS. */
function strictly<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    return undefined;
  }
}

const fn = () => 0.5;
const numbers = fc.constantFrom(
  0,
  -0,
  1,
  250,
  2_147_483_647,
  2_147_483_648,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '5',
  null,
);
const values = {
  preset: fc.constantFrom('mutation', 'read', 'fast', 'toString', 5, null),
  delays: fc.oneof(
    fc.array(numbers, { maxLength: 4 }),
    // biome-ignore lint/suspicious/noSparseArray: a sparse array is one of the inputs under test
    fc.constant([, 100]),
    fc.constant('100'),
  ),
  backoff: fc.oneof(
    fc.record({ initialDelay: numbers, factor: numbers }, { requiredKeys: [] }),
    fc.constant({ factor: 2, extra: true }),
    fc.constant(null),
  ),
  retries: numbers,
  maxDelay: numbers,
  maxDelayMs: numbers,
  timeoutMs: numbers,
  on: fc.constantFrom(
    { retry: fn },
    { giveUp: fn, retry: undefined },
    { retry: 'log' },
    { other: fn },
    null,
  ),
  jitter: fc.constantFrom('equal', 'full', 'none', 'some', 1),
  random: fc.constantFrom(fn, 0.5),
  clock: fc.constantFrom(systemClock, new ManualClock(), { now: () => 0 }, null),
  timeout: numbers,
  deadline: fc.oneof(numbers, fc.constantFrom(new Date(0), new Date(Number.NaN))),
  signal: fc.constantFrom(new AbortController().signal, {}, 'signal'),
  request: fc.constantFrom(
    { method: 'GET' },
    { method: '' },
    { method: 5 },
    { method: 'POST', idempotencyKey: 'k' },
    { method: 'POST', idempotencyKey: 5 },
    { method: 'POST', headers: { 'Idempotency-Key': 'k' } },
    { method: 'POST', headers: 'k' },
    { method: 'POST', extra: 'stripped' },
    new Request('https://api.test/', { method: 'PUT' }),
    null,
  ),
  classify: fc.constantFrom(fn, 'retry'),
  budget: fc.constantFrom(createRetryBudget({ clock: new ManualClock() }), {}),
  onRetry: fc.constantFrom(fn, 'log'),
  onGiveUp: fc.constantFrom(fn, undefined),
};

const optionsArbitrary = fc
  .tuple(
    fc.record(values, { requiredKeys: [] }),
    fc.option(fc.constantFrom('retrys', 'signals'), { nil: undefined }),
  )
  .map(([options, unknownKey]) => (unknownKey ? { ...options, [unknownKey]: 1 } : options));

describe('the quick option parser', () => {
  it('accepts exactly what zod accepts, and returns what zod returns', () => {
    fc.assert(
      fc.property(optionsArbitrary, (options) => {
        const quick = quickRetryOptions(options);
        const strict = strictly(() => strictRetryOptions(options, 'retry()'));
        expect(quick).toEqual(strict);
      }),
      { numRuns: 3_000 },
    );
  });

  it('agrees with zod on per-call options', () => {
    const callArbitrary = fc.record(
      { signal: values.signal, deadline: values.deadline, request: values.request },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(callArbitrary, (call) => {
        expect(quickCallOptions(call)).toEqual(strictly(() => strictCallOptions(call, 'policy')));
      }),
      { numRuns: 1_000 },
    );
  });

  it('leaves anything that is not an options object to zod, which rejects it', () => {
    for (const input of [null, 5, 'read', [], [['preset', 'read']]]) {
      expect(quickRetryOptions(input)).toBeUndefined();
      expect(strictly(() => strictRetryOptions(input, 'retry()'))).toBeUndefined();
    }
  });

  it('reads inherited options as zod does', () => {
    const input = Object.create({ preset: 'read' });
    expect(quickRetryOptions(input)).toEqual(strictRetryOptions(input, 'retry()'));
  });
});
