import { isBallastError } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import {
  localhostAddresses,
  problemResponse,
  rateLimitedError,
  rateLimitPresets,
} from '@ballast/server';
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

  it('falls back to the IP for an empty id, so clients sending an empty tenant header do not share one budget', () => {
    // `key: (req) => req.get('x-tenant')` reads an empty header as '', and
    // `(req) => req.user?.id ?? ''` names no user either: neither is one client.
    expect(rateLimitKey('', '10.0.0.1')).toBe('ip:10.0.0.1');
    expect(rateLimitKey('', '10.0.0.2')).toBe('ip:10.0.0.2');
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

describe('rateLimitPresets', () => {
  it("are seed 004's limits: 100/min globally, 5 sign-ups and 10 logins per 15 minutes", () => {
    expect(rateLimitPresets).toEqual({
      global: { limit: 100, windowMs: 60_000 },
      signUp: { limit: 5, windowMs: 900_000 },
      login: { limit: 10, windowMs: 900_000 },
    });
  });

  it('are what a limiter resolves each preset name to when nothing overrides it', () => {
    for (const name of Object.keys(rateLimitPresets) as Array<keyof typeof rateLimitPresets>) {
      expect(resolveRateLimit(parse({ preset: name })), name).toEqual(rateLimitPresets[name]);
    }
  });
});

describe('localhostAddresses', () => {
  it('are the IPv4, IPv6 and IPv4-mapped loopback addresses, the default allowList', () => {
    expect(localhostAddresses).toEqual(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
    expect(parse({}).allowList).toEqual([...localhostAddresses]);
    expect(parse({ allowList: [] }).allowList).toEqual([]);
  });
});

describe('rateLimitedError', () => {
  it('is RATE_LIMITED (429) with the wait in whole seconds, rounded up, and the limit', () => {
    const error = rateLimitedError(1_500, 100);
    expect(isBallastError(error, 'RATE_LIMITED')).toBe(true);
    expect(error.status).toBe(429);
    expect(error.retryable).toBe(true);
    expect(error.details).toEqual({ retryAfterSeconds: 2, limit: 100 });
    expect(error.message).toBe('Rate limit of 100 exceeded; retry in 2 s');
    expect(rateLimitedError(0, 5).details.retryAfterSeconds).toBe(1);
    expect(rateLimitedError(-3_000, 5).details.retryAfterSeconds).toBe(1);
  });

  it('renders as a 429 problem with Retry-After', async () => {
    const response = problemResponse(rateLimitedError(60_000, 10));
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('60');
    expect(await response.json()).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 60,
      limit: 10,
    });
  });

  it('refuses a wait that is not a finite number or a limit that is not a positive integer', () => {
    const cases: Array<[unknown, unknown, string]> = [
      [Number.NaN, 10, 'retryAfterMs'],
      [Number.POSITIVE_INFINITY, 10, 'retryAfterMs'],
      ['1000', 10, 'retryAfterMs'],
      [1_000, 0, 'limit'],
      [1_000, 2.5, 'limit'],
      [1_000, undefined, 'limit'],
    ];
    for (const [retryAfterMs, limit, field] of cases) {
      expect(() => rateLimitedError(retryAfterMs as number, limit as number)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('rateLimitedError()'),
          details: expect.objectContaining({ field }),
        }),
      );
    }
  });
});
