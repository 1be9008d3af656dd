/**
 * The client's option checks answer as core's `parseOptions` + `v` did before the client had
 * its own: same code, same message, same `details` (first field, every issue), for each kind of
 * check and for valid, ill-typed, out-of-range, unknown and nested input.
 */
import { type BallastError, isBallastError } from '@ballast/core';
import { parseOptions as coreParse, v } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';
import { isStorableJson, storableRecord } from '../queue/shared-option-schemas.js';
import {
  array,
  clockCheck,
  duration,
  func,
  headerRecord,
  is,
  number,
  object,
  oneOf,
  optional,
  parseOptions,
  string,
} from './option-checks.js';

const mine = object({
  url: string(1, 20),
  label: optional(string(0, 5), 'x'),
  count: optional(number(1, 10), 3),
  ratio: optional(number(0, 1, false)),
  waitMs: optional(duration(10), 1_000),
  delays: optional(array(duration(), 1, 3), [1, 2]),
  mode: optional(oneOf('auto', 'manual'), 'auto'),
  run: optional(func<() => void>()),
  even: optional(is<number>((value) => value === 2, 'two')),
  headers: optional(headerRecord),
  meta: optional(storableRecord),
  clock: optional(clockCheck),
  nested: optional(object({ limit: optional(number(0, 5), 1) }), { limit: 1 }),
});

const core = v.object({
  url: v.string({ minLength: 1, maxLength: 20 }),
  label: v.optional(v.string({ maxLength: 5 }), 'x'),
  count: v.optional(v.number({ min: 1, max: 10, integer: true }), 3),
  ratio: v.optional(v.number({ min: 0, max: 1 })),
  waitMs: v.optional(v.durationMs({ min: 10 }), 1_000),
  delays: v.optional(v.array(v.durationMs(), { minLength: 1, maxLength: 3 }), [1, 2]),
  mode: v.optional(v.literal('auto', 'manual'), 'auto'),
  run: v.optional(v.func<() => void>('a function')),
  even: v.optional(v.custom<number>((value) => value === 2, 'two')),
  headers: v.optional(
    v.custom<Record<string, string>>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        Object.values(value).every((item) => typeof item === 'string'),
      'a record of header names to string values',
    ),
  ),
  meta: v.optional(
    v.custom<Record<string, unknown>>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        isStorableJson(value),
      'a JSON object',
    ),
  ),
  clock: v.optional(v.clock()),
  nested: v.optional(
    v.object({ limit: v.optional(v.number({ min: 0, max: 5, integer: true }), 1) }),
    {
      limit: 1,
    },
  ),
});

function outcome(parse: () => unknown): unknown {
  try {
    return { value: parse() };
  } catch (error) {
    if (!isBallastError(error)) throw error;
    const { code, message, details } = error as BallastError;
    return { code, message, details };
  }
}

const inputs: [string, unknown][] = [
  ['valid, defaults applied', { url: 'https://a' }],
  [
    'valid, everything given',
    {
      url: 'u',
      label: '',
      count: 10,
      ratio: 0.5,
      waitMs: 10,
      delays: [0, 2_147_483_647],
      mode: 'manual',
      run: () => {},
      even: 2,
      headers: { a: 'b' },
      meta: { any: 1 },
      clock: { now: () => 0, sleep: async () => {}, setTimer: () => () => {} },
      nested: {},
    },
  ],
  ['missing options', undefined],
  ['null', null],
  ['an array', []],
  ['a string', 'x'],
  ['missing required field', {}],
  ['unknown keys (listed first)', { url: 'u', retries: 3, Count: 1 }],
  ['empty string', { url: '' }],
  ['string too long', { url: 'x'.repeat(21) }],
  ['string too long, min 0', { url: 'u', label: 'toolong' }],
  ['number of wrong kind', { url: 'u', count: '3' }],
  ['NaN', { url: 'u', count: Number.NaN }],
  ['Infinity', { url: 'u', ratio: Number.POSITIVE_INFINITY }],
  ['not an integer', { url: 'u', count: 1.5 }],
  ['below min', { url: 'u', count: 0 }],
  ['above max', { url: 'u', count: 11 }],
  ['duration below min', { url: 'u', waitMs: 9 }],
  ['duration above the timer limit', { url: 'u', waitMs: 2 ** 31 }],
  ['duration of wrong kind', { url: 'u', waitMs: null }],
  ['array of wrong kind', { url: 'u', delays: 5 }],
  ['array too short', { url: 'u', delays: [] }],
  ['array too long', { url: 'u', delays: [1, 2, 3, 4] }],
  ['array with a bad item', { url: 'u', delays: [1, -1] }],
  ['array with a hole', { url: 'u', delays: Array(3) }],
  ['literal', { url: 'u', mode: 'Auto' }],
  ['function', { url: 'u', run: 'run' }],
  ['custom', { url: 'u', even: 3 }],
  ['header record with a number', { url: 'u', headers: { a: 1 } }],
  ['plain record as array', { url: 'u', meta: [] }],
  ['plain record holding a function', { url: 'u', meta: { format: () => 'x' } }],
  ['clock without setTimer', { url: 'u', clock: { now: () => 0, sleep: () => {} } }],
  ['nested unknown key and bad value', { url: 'u', nested: { limit: 9, max: 1 } }],
  ['nested of wrong kind', { url: 'u', nested: 'x' }],
  ['several problems', { url: 1, count: 0, mode: 'x', extra: true }],
];

describe('option checks', () => {
  it.each(inputs)('%s: same outcome as core parseOptions + v', (_label, input) => {
    expect(outcome(() => parseOptions(mine, input, 'example()'))).toEqual(
      outcome(() => coreParse(core, input, 'example()')),
    );
  });

  it('names the field and the function, and lists every problem', () => {
    expect(outcome(() => parseOptions(mine, { url: 1, extra: true }, 'example()'))).toEqual({
      code: 'INVALID_OPTIONS',
      message: 'Invalid options for example(): "extra": unknown option',
      details: {
        field: 'extra',
        issues: [
          { field: 'extra', problem: 'unknown option' },
          { field: 'url', problem: 'expected a string, received number' },
        ],
      },
    });
  });

  it('never changes the input', () => {
    const input = { url: 'u', delays: [5], nested: { limit: 2 } };
    const output = parseOptions(mine, input, 'example()');
    expect(input).toEqual({ url: 'u', delays: [5], nested: { limit: 2 } });
    expect(output.delays).not.toBe(input.delays);
    expect(output.nested).not.toBe(input.nested);
  });
});
