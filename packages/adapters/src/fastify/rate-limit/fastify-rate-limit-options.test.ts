import { describe, expect, it } from 'vitest';
import { fastifyRateLimitOptions } from './fastify-rate-limit-options.js';

describe('fastifyRateLimitOptions', () => {
  it('builds @fastify/rate-limit options from a preset', () => {
    const options = fastifyRateLimitOptions({ preset: 'signUp', allowList: [] });
    expect(options).toMatchObject({ max: 5, timeWindow: 900_000, enableDraftSpec: true });
    expect(options.allowList({ ip: '127.0.0.1' } as never, 'ip:127.0.0.1')).toBe(false);
    expect(options.errorResponseBuilder({} as never, { ttl: 1_500, max: 5 })).toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfterSeconds: 2, limit: 5 },
    });
  });

  it('keys an anonymous IPv6 client by its /56 with the default IP key, as the Express options do', async () => {
    const options = fastifyRateLimitOptions();
    const fromIp = (ip: string) => ({ ip, headers: {} }) as never;
    expect(await options.keyGenerator(fromIp('2001:db8:1:2::1'))).toBe(
      await options.keyGenerator(fromIp('2001:db8:1:ff::9')),
    );
    expect(await options.keyGenerator(fromIp('2001:db8:1:2::1'))).not.toBe(
      await options.keyGenerator(fromIp('2001:db8:1:100::1')),
    );
    expect(await options.keyGenerator(fromIp('10.0.0.1'))).toBe('ip:10.0.0.1');
  });

  it('allow-lists by client IP, whatever the key', () => {
    const options = fastifyRateLimitOptions({ key: () => 'acme' });
    expect(options.allowList({ ip: '::1' } as never, 'id:acme')).toBe(true);
    expect(options.allowList({ ip: '::ffff:127.0.0.1' } as never, 'id:acme')).toBe(true);
    expect(options.allowList({ ip: '10.0.0.1' } as never, 'id:acme')).toBe(false);
  });

  it('keys by the tenant when the key function names one, by IP otherwise', async () => {
    const options = fastifyRateLimitOptions({
      key: (request) => request.headers['x-tenant'] as string | undefined,
    });
    const request = (tenant?: string) =>
      ({ ip: '10.0.0.1', headers: tenant ? { 'x-tenant': tenant } : {} }) as never;
    expect(await options.keyGenerator?.(request('acme'))).toBe('id:acme');
    expect(await options.keyGenerator?.(request())).toBe('ip:10.0.0.1');
    // An anonymous IPv6 client counts as its /56: a new address per request is the same client.
    const fromIpv6 = (ip: string) => ({ ip, headers: {} }) as never;
    expect(await options.keyGenerator?.(fromIpv6('2001:db8:1:2::1'))).toBe(
      await options.keyGenerator?.(fromIpv6('2001:db8:1:2:ffff::9')),
    );
  });

  it('rejects unknown keys and a non-ioredis client, naming fastifyRateLimitOptions()', () => {
    expect(() => fastifyRateLimitOptions({ store: {} } as never)).toThrow(
      /fastifyRateLimitOptions\(\).*store/,
    );
    expect(() => fastifyRateLimitOptions({ redis: {} })).toThrow(/redis/);
  });
});
