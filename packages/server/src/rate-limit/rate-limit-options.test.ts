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

  it('keys an IPv6 client by its /56, as express-rate-limit does, so rotating addresses does not reset the count', () => {
    // Red-team finding: with a key function, an anonymous request fell back to the full IPv6
    // address (and the adapter silenced express-rate-limit's keyGeneratorIpFallback warning
    // about exactly this): one host owns a /64 and could send each request from a new address.
    const key = rateLimitKey(undefined, '2001:db8:1:2::1');
    for (const ip of [
      '2001:db8:1:2::ffff',
      '2001:db8:1:2:aaaa:bbbb:cccc:dddd',
      '2001:0DB8:0001:00ff::1',
      '2001:db8:1:2::1%eth0',
    ]) {
      expect(rateLimitKey(undefined, ip), ip).toBe(key);
    }
    expect(key).toBe('ip:2001:db8:1::/56');
    expect(rateLimitKey(undefined, '2001:db8:1:100::1')).not.toBe(key);
    expect(rateLimitKey(undefined, '::1')).toBe('ip:::/56');
    // An IPv4 client on a dual-stack socket is still one IPv4 address, not one /56 for all.
    expect(rateLimitKey(undefined, '::ffff:10.0.0.1')).toBe('ip:10.0.0.1');
    expect(rateLimitKey(undefined, '::ffff:10.0.0.2')).toBe('ip:10.0.0.2');
    // Not an address: kept as given.
    expect(rateLimitKey(undefined, 'garbage::x::y')).toBe('ip:garbage::x::y');
  });
});
