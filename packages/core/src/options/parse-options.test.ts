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

  it('refuses a schema that validates asynchronously', () => {
    const later: StandardSchemaV1 = {
      '~standard': { version: 1, vendor: 'test', validate: async (value) => ({ value }) },
    };
    expect(() => parseOptions(later, 1, 'later()')).toThrow(/synchronously/);
  });
});
