import { describe, expect, expectTypeOf, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { systemClock } from '../clock/system-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { noopLogger } from '../logging/logger.js';
import { parseOptions } from './parse-options.js';
import * as v from './small-validator.js';

/** The field and problem `parseOptions` reports, or `'ok'`. */
function problem(schema: v.Schema<unknown>, input: unknown): string {
  try {
    parseOptions(schema, input, 'test()');
    return 'ok';
  } catch (error) {
    if (!isBallastError(error, 'INVALID_OPTIONS')) throw error;
    const { field } = error.details as { field: string };
    return `${field}: ${error.message.slice(error.message.indexOf('": ') + 3)}`;
  }
}

describe('the small validator', () => {
  const limits = v.object({
    maxConcurrent: v.number({ integer: true, min: 1 }),
    maxQueued: v.optional(v.number({ integer: true, min: 0 }), 0),
    name: v.optional(v.string({ minLength: 1 })),
  });

  it('returns a new object with defaults applied and absent optional keys left out', () => {
    const input = { maxConcurrent: 2 };
    const output = parseOptions(limits, input, 'test()');
    expect(output).toStrictEqual({ maxConcurrent: 2, maxQueued: 0 });
    expect(output).not.toBe(input);
    expect(input).toStrictEqual({ maxConcurrent: 2 });
  });

  it('infers the output type: defaulted keys required, other optional keys optional', () => {
    expectTypeOf<v.Infer<typeof limits>>().toEqualTypeOf<{
      maxConcurrent: number;
      maxQueued: number;
      name?: string | undefined;
    }>();
  });

  it('rejects unknown keys by name', () => {
    expect(problem(limits, { maxConcurrent: 1, maxQueud: 2 })).toBe('maxQueud: unknown option');
  });

  it('turns a missing options argument into an issue at (options)', () => {
    expect(problem(limits, undefined)).toBe(
      '(options): expected an options object, received undefined',
    );
    expect(problem(limits, [])).toBe('(options): expected an options object, received an array');
    expect(problem(limits, null)).toBe('(options): expected an options object, received null');
  });

  it('reports a required key that is missing', () => {
    expect(problem(limits, {})).toBe('maxConcurrent: expected a number, received undefined');
  });

  it('names nested fields by path, array items by index', () => {
    const schema = v.object({
      backoff: v.optional(v.object({ factor: v.number({ min: 1 }) })),
      delays: v.optional(v.array(v.durationMs())),
    });
    expect(problem(schema, { backoff: { factor: 0 } })).toBe('backoff.factor: must be at least 1');
    expect(problem(schema, { backoff: { factor: 2, extra: 1 } })).toBe(
      'backoff.extra: unknown option',
    );
    expect(problem(schema, { delays: [1, -1] })).toBe('delays.1: must be at least 0');
    // biome-ignore lint/suspicious/noSparseArray: holes must be checked, not skipped
    expect(problem(schema, { delays: [, 1] })).toBe(
      'delays.0: expected a duration in ms, received undefined',
    );
  });

  it('accepts only finite numbers, within bounds', () => {
    const schema = v.object({ n: v.number({ greaterThan: 0, max: 10, integer: true }) });
    expect(problem(schema, { n: 5 })).toBe('ok');
    expect(problem(schema, { n: Number.NaN })).toBe('n: expected a number, received NaN');
    expect(problem(schema, { n: Number.POSITIVE_INFINITY })).toBe(
      'n: expected a number, received number',
    );
    expect(problem(schema, { n: 0 })).toBe('n: must be greater than 0');
    expect(problem(schema, { n: 11 })).toBe('n: must be at most 10');
    expect(problem(schema, { n: 1.5 })).toBe('n: must be an integer');
    expect(problem(schema, { n: '5' })).toBe('n: expected a number, received string');
  });

  it('caps durations at the longest timer JavaScript honours', () => {
    const schema = v.object({ ms: v.durationMs() });
    expect(problem(schema, { ms: 2 ** 31 - 1 })).toBe('ok');
    expect(problem(schema, { ms: 2 ** 31 })).toBe('ms: must be at most 2147483647');
    expect(problem(schema, { ms: -1 })).toBe('ms: must be at least 0');
  });

  it('checks strings by length and pattern', () => {
    const schema = v.object({ s: v.string({ minLength: 2, maxLength: 3, pattern: /^[a-z]+$/ }) });
    expect(problem(schema, { s: 'ab' })).toBe('ok');
    expect(problem(schema, { s: 'a' })).toBe('s: must be at least 2 characters');
    expect(problem(schema, { s: 'abcd' })).toBe('s: must be at most 3 characters');
    expect(problem(schema, { s: 'AB' })).toBe('s: must match /^[a-z]+$/');
  });

  it('checks literals, booleans, records and dates', () => {
    const schema = v.object({
      mode: v.optional(v.literal('equal', 'full')),
      flag: v.optional(v.boolean()),
      on: v.optional(v.record(v.func())),
      at: v.optional(v.date()),
    });
    expect(problem(schema, { mode: 'full', flag: true, on: { a: () => {} }, at: new Date() })).toBe(
      'ok',
    );
    expect(problem(schema, { mode: 'some' })).toBe('mode: expected one of "equal", "full"');
    expect(problem(schema, { flag: 1 })).toBe('flag: expected a boolean, received number');
    expect(problem(schema, { on: { a: 1 } })).toBe('on.a: expected a function');
    expect(problem(schema, { at: new Date(Number.NaN) })).toBe('at: expected a valid Date');
  });

  it('takes the first union alternative that passes and explains a miss', () => {
    const deadline = v.object({ deadline: v.union(v.number({ greaterThan: 0 }), v.date()) });
    const at = new Date(5);
    expect(parseOptions(deadline, { deadline: at }, 'test()').deadline).toBe(at);
    expect(problem(deadline, { deadline: 'soon' })).toBe(
      'deadline: expected a number or a valid Date, received string',
    );
    // A number that misses a bound says so, rather than listing the alternatives.
    expect(problem(deadline, { deadline: -1 })).toBe('deadline: must be greater than 0');
  });

  it('recognises clocks, loggers and signals by shape', () => {
    const schema = v.object({
      clock: v.optional(v.clock(), systemClock),
      logger: v.optional(v.logger()),
      signal: v.optional(v.abortSignal()),
    });
    const clock = new ManualClock();
    const fakeSignal = { aborted: false, addEventListener() {} };
    expect(parseOptions(schema, { clock, logger: noopLogger, signal: fakeSignal }, 't()')).toEqual({
      clock,
      logger: noopLogger,
      signal: fakeSignal,
    });
    expect(parseOptions(schema, {}, 't()').clock).toBe(systemClock);
    expect(problem(schema, { clock: { now: () => 0 } })).toBe(
      'clock: expected a Clock (now, sleep, setTimer)',
    );
    expect(problem(schema, { logger: console.log })).toBe(
      'logger: expected a Logger (debug, info, warn, error)',
    );
  });

  it('runs cross-field rules only on valid input, at the path they name', () => {
    const schema = v.refine(
      v.object({ a: v.optional(v.number()), b: v.optional(v.number()) }),
      (value) =>
        value.a !== undefined && value.b !== undefined
          ? { path: ['b'], message: 'choose a or b' }
          : undefined,
    );
    expect(problem(schema, { a: 1, b: 2 })).toBe('b: choose a or b');
    expect(problem(schema, { a: 'x', b: 2 })).toBe('a: expected a number, received string');
  });

  it('transforms accepted values only', () => {
    const schema = v.object({ header: v.transform(v.string(), (name) => name.toLowerCase()) });
    expect(parseOptions(schema, { header: 'X-Id' }, 't()')).toEqual({ header: 'x-id' });
  });

  it('ignores unknown keys in strip mode, for values read by shape such as a Request', () => {
    const schema = v.object({ method: v.string() }, { unknownKeys: 'strip' });
    const request = new Request('https://example.test/', { method: 'PUT' });
    expect(parseOptions(schema, request, 't()')).toEqual({ method: 'PUT' });
  });

  it('is a Standard Schema that reports every issue with its path', () => {
    const result = limits['~standard'].validate({ maxConcurrent: 0, name: '' });
    expect(result).toEqual({
      issues: [
        expect.objectContaining({ message: 'must be at least 1', path: ['maxConcurrent'] }),
        expect.objectContaining({ message: 'must not be empty', path: ['name'] }),
      ],
    });
    expect(limits['~standard'].vendor).toBe('ballast');
  });
});
