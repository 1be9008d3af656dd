import { isBallastError, ManualClock, noopLogger } from '@ballast/core';
import { hasMethods, parseOptions } from '@ballast/core/adapter-kit';
import { abortSignalSchema, functionSchema } from '@ballast/server/adapter-kit';
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

describe('functionSchema', () => {
  const schema = z.strictObject({ onEvent: functionSchema<(event: string) => void>('a listener') });

  it('accepts any function, and hands it back as it is', () => {
    const listener = (_event: string) => {};
    expect(parseOptions(schema, { onEvent: listener }, 'myStore()').onEvent).toBe(listener);
    expect(() => parseOptions(schema, { onEvent: async () => {} }, 'myStore()')).not.toThrow();
  });

  it('refuses anything else with INVALID_OPTIONS quoting the description', () => {
    for (const value of ['listener', 1, { call: () => {} }, undefined]) {
      let error: unknown;
      try {
        parseOptions(schema, { onEvent: value }, 'myStore()');
      } catch (caught) {
        error = caught;
      }
      expect(isBallastError(error, 'INVALID_OPTIONS'), String(value)).toBe(true);
      expect((error as Error).message).toContain('myStore()');
      expect((error as { details: { field?: string } }).details.field).toBe('onEvent');
      if (value !== undefined) expect((error as Error).message).toContain('expected a listener');
    }
  });
});

describe('abortSignalSchema', () => {
  const schema = z.strictObject({ signal: abortSignalSchema.optional() });

  it('accepts an AbortSignal and a look-alike from another realm', () => {
    const signal = AbortSignal.abort();
    expect(parseOptions(schema, { signal }, 'myStore.get()').signal).toBe(signal);
    const lookAlike = { aborted: false, addEventListener: () => {} };
    expect(parseOptions(schema, { signal: lookAlike }, 'myStore.get()').signal).toBe(lookAlike);
  });

  it('refuses an AbortController or a bare object, naming the field', () => {
    for (const value of [new AbortController(), { aborted: true }, 'abort']) {
      expect(() => parseOptions(schema, { signal: value }, 'myStore.get()')).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('expected an AbortSignal'),
          details: expect.objectContaining({ field: 'signal' }),
        }),
      );
    }
  });
});
