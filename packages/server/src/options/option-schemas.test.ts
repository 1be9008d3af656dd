import { isBallastError, ManualClock, noopLogger } from '@ballast/core';
import { hasMethods, parseOptions } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clockSchema, loggerSchema, methodsSchema } from './option-schemas.js';

describe('option schemas', () => {
  it('recognise objects by their methods, not their class', () => {
    expect(hasMethods({ set: () => {}, get: () => {} }, ['set', 'get'])).toBe(true);
    expect(hasMethods({ set: () => {} }, ['set', 'get'])).toBe(false);
    expect(hasMethods(null, [])).toBe(false);
    expect(hasMethods('set', ['length'])).toBe(false);
  });

  it('accept the real values and test doubles', () => {
    const schema = z.object({ clock: clockSchema, logger: loggerSchema });
    expect(() =>
      parseOptions(schema, { clock: new ManualClock(), logger: noopLogger }, 'x()'),
    ).not.toThrow();
  });

  it('name the field and what was expected', () => {
    const schema = z.object({ redis: methodsSchema(['set', 'evalsha'], 'an ioredis client') });
    try {
      parseOptions(schema, { redis: { set: () => {} } }, 'RedisStore()');
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      expect((error as Error).message).toBe(
        'Invalid options for RedisStore(): "redis": expected an ioredis client',
      );
    }
  });
});
