import { describe, expect, it } from 'vitest';
import { expressRateLimitOptions } from './express-rate-limit-options.js';

describe('expressRateLimitOptions', () => {
  it('builds express-rate-limit options from a preset', () => {
    const options = expressRateLimitOptions({ preset: 'login' });
    expect(options).toMatchObject({ limit: 10, windowMs: 900_000, standardHeaders: 'draft-6' });
    expect(options.keyGenerator).toBeUndefined();
  });

  it('keys by the user when the key function names one', async () => {
    const options = expressRateLimitOptions({ key: (req) => req.get('x-user') });
    const req = { ip: '10.0.0.1', get: (name: string) => (name === 'x-user' ? 'ana' : undefined) };
    // biome-ignore lint/suspicious/noExplicitAny: a minimal request stand-in
    expect(await options.keyGenerator?.(req as any, {} as any)).toBe('id:ana');
  });

  it('falls back to the IPv6 /56, not the address, as express-rate-limit’s own key does', async () => {
    const options = expressRateLimitOptions({ key: (req) => req.get('x-user') });
    const anonymous = (ip: string) => ({ ip, get: () => undefined });
    // biome-ignore lint/suspicious/noExplicitAny: a minimal request stand-in
    const keyOf = (ip: string) => options.keyGenerator?.(anonymous(ip) as any, {} as any);
    expect(await keyOf('2001:db8:1:2::1')).toBe(await keyOf('2001:db8:1:2:ffff::9'));
    expect(await keyOf('2001:db8:1:2::1')).not.toBe(await keyOf('2001:db8:2::1'));
  });

  it('rejects unknown keys and foreign stores, naming expressRateLimitOptions()', () => {
    expect(() => expressRateLimitOptions({ limt: 5 } as never)).toThrow(
      /expressRateLimitOptions\(\).*limt/,
    );
    expect(() => expressRateLimitOptions({ redis: {} } as never)).toThrow(/redis/);
    expect(() => expressRateLimitOptions({ store: {} as never })).toThrow(/store/);
  });
});
