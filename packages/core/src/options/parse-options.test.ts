import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isBallastError } from '../errors/ballast-error.js';
import { parseOptions } from './parse-options.js';

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
