import { parseOptions } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';
import { rateLimitKey, rateLimitOptionsSchema, resolveRateLimit } from './rate-limit-options.js';

const schema = rateLimitOptionsSchema<{ user?: string }>();
const parse = (input: unknown) => parseOptions(schema, input, 'someRateLimit()');

describe('rateLimitOptionsSchema', () => {
  it('defaults to the global preset, keyed by IP, localhost exempt', () => {
    const parsed = parse({});
    expect(parsed).toMatchObject({ preset: 'global', key: 'ip' });
    expect(parsed.allowList).toEqual(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
    expect(resolveRateLimit(parsed)).toEqual({ limit: 100, windowMs: 60_000 });
  });

  it('applies a preset and its overrides', () => {
    expect(resolveRateLimit(parse({ preset: 'login' }))).toEqual({
      limit: 10,
      windowMs: 900_000,
    });
    expect(resolveRateLimit(parse({ preset: 'signUp', limit: 3 }))).toEqual({
      limit: 3,
      windowMs: 900_000,
    });
    expect(resolveRateLimit(parse({ windowMs: 5_000 }))).toEqual({ limit: 100, windowMs: 5_000 });
  });

  it.each([
    // An unknown key is reported on the options object, by name in the message.
    [{ presett: 'login' }, '(options)'],
    [{ preset: 'burst' }, 'preset'],
    [{ limit: 0 }, 'limit'],
    [{ limit: 1.5 }, 'limit'],
    [{ windowMs: 999 }, 'windowMs'],
    [{ key: 'user' }, 'key'],
    [{ allowList: '127.0.0.1' }, 'allowList'],
  ])('rejects %j with INVALID_OPTIONS naming %s and the function called', (input, field) => {
    expect(() => parse(input)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field }),
      }),
    );
    expect(() => parse(input)).toThrow(new RegExp(`someRateLimit\\(\\).*${Object.keys(input)[0]}`));
  });

  it('keeps a key function and an adapter extension strict', () => {
    const key = (request: { user?: string }) => request.user;
    expect(parse({ key }).key).toBe(key);
    const extended = schema.extend({ store: schema.shape.limit });
    expect(() => parseOptions(extended, { stor: 1 }, 'x()')).toThrow(/stor/);
  });
});

describe('rateLimitKey', () => {
  it('keys by user or tenant when named, by IP otherwise, never colliding', () => {
    expect(rateLimitKey('42', '10.0.0.1')).toBe('id:42');
    expect(rateLimitKey(undefined, '10.0.0.1')).toBe('ip:10.0.0.1');
    expect(rateLimitKey(undefined, undefined)).toBe('ip:unknown');
    expect(rateLimitKey('10.0.0.1', '10.0.0.2')).not.toBe(rateLimitKey(undefined, '10.0.0.1'));
  });
});
