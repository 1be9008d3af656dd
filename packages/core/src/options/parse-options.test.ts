import { assertFunction, invalidArgument } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isBallastError } from '../errors/ballast-error.js';
import { parseOptions } from './parse-options.js';
import type { StandardSchemaV1 } from './standard-schema.js';

const schema = z.object({
  retries: z.number().int().nonnegative(),
  backoff: z.object({ maxDelay: z.number().finite() }).optional(),
});

describe('parseOptions', () => {
  it('returns the parsed value', () => {
    expect(parseOptions(schema, { retries: 2 }, 'retry()')).toEqual({ retries: 2 });
  });

  it('names the offending field, nested ones by path', () => {
    try {
      parseOptions(schema, { retries: 1, backoff: { maxDelay: Number.NaN } }, 'retry()');
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      if (!isBallastError(error)) return;
      expect(error.details.field).toBe('backoff.maxDelay');
      expect(error.message).toContain('retry()');
      expect(error.message).toContain('backoff.maxDelay');
    }
  });

  it('rejects a missing options object as a whole', () => {
    expect(() => parseOptions(schema, undefined, 'retry()')).toThrow(/\(options\)/);
  });
});

describe('parseOptions with any Standard Schema', () => {
  const positive: StandardSchemaV1<number> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) =>
        typeof value === 'number' && value > 0
          ? { value }
          : { issues: [{ message: 'expected a positive number', path: [{ key: 'limit' }] }] },
    },
  };

  it('accepts a schema that is not zod', () => {
    expect(parseOptions(positive, 3, 'limit()')).toBe(3);
    expect(() => parseOptions(positive, -1, 'limit()')).toThrow(
      'Invalid options for limit(): "limit": expected a positive number',
    );
  });

  it('still fails, on the options as a whole, when a schema fails without an issue', () => {
    const silent: StandardSchemaV1 = {
      '~standard': { version: 1, vendor: 'test', validate: () => ({ issues: [] }) },
    };
    expect(() => parseOptions(silent, 1, 'silent()')).toThrow(
      'Invalid options for silent(): "(options)": invalid',
    );
  });

  it('refuses a schema that validates asynchronously', () => {
    const later: StandardSchemaV1 = {
      '~standard': { version: 1, vendor: 'test', validate: async (value) => ({ value }) },
    };
    expect(() => parseOptions(later, 1, 'later()')).toThrow(/synchronously/);
  });
});

describe('assertFunction', () => {
  it('returns quietly for any function, async and class constructors included', () => {
    for (const fn of [() => 1, async () => 1, function named() {}, class Job {}]) {
      expect(() => assertFunction(fn, 'myStore.run()', 'operation')).not.toThrow();
    }
  });

  it('throws INVALID_OPTIONS naming the caller and the parameter otherwise', () => {
    for (const value of [undefined, null, 'fn', 42, { call: () => 1 }]) {
      let error: unknown;
      try {
        assertFunction(value, 'myStore.run()', 'operation');
      } catch (caught) {
        error = caught;
      }
      expect(isBallastError(error, 'INVALID_OPTIONS'), String(value)).toBe(true);
      if (!isBallastError(error)) return;
      expect(error.message).toBe(
        'Invalid options for myStore.run(): "operation": expected a function',
      );
      expect(error.details.field).toBe('operation');
      // A programming error in the caller: the server is misconfigured, not the request wrong.
      expect(error.status).toBe(500);
    }
  });

  it("names the parameter 'fn' when no name is given", () => {
    expect(() => assertFunction(undefined, 'retry()')).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'fn' }) }),
    );
  });
});

describe('invalidArgument', () => {
  it("builds, without throwing, the INVALID_OPTIONS error worded like parseOptions's", () => {
    const error = invalidArgument('myStore.get()', 'key', 'a non-empty string');
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    expect(error.message).toBe(
      'Invalid options for myStore.get(): "key": expected a non-empty string',
    );
    expect(error.status).toBe(500);
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({
      field: 'key',
      issues: [{ field: 'key', problem: 'expected a non-empty string' }],
    });
  });

  it('reads like the error parseOptions throws for the same field', () => {
    let fromSchema: unknown;
    try {
      parseOptions(z.object({ key: z.string() }), { key: 1 }, 'myStore.get()');
    } catch (error) {
      fromSchema = error;
    }
    const built = invalidArgument('myStore.get()', 'key', 'a string');
    expect(isBallastError(fromSchema, 'INVALID_OPTIONS')).toBe(true);
    expect((fromSchema as typeof built).details.field).toBe(built.details.field);
    expect((fromSchema as Error).message).toMatch(/^Invalid options for myStore\.get\(\): "key": /);
  });

  it('is what an async function rejects with', async () => {
    const get = async (key: unknown) => {
      if (typeof key !== 'string') throw invalidArgument('myStore.get()', 'key', 'a string');
      return key;
    };
    await expect(get(7)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'key' },
    });
  });
});
