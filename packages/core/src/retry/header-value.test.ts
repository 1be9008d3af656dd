import { describe, expect, it } from 'vitest';
import { headerValue } from './header-value.js';
import { isRetrySafe } from './idempotency-guard.js';

describe('headerValue', () => {
  it('asks a Headers object, whose get() already ignores case', () => {
    const headers = new Headers({ 'Retry-After': '5' });
    expect(headerValue(headers, 'retry-after')).toBe('5');
    expect(headerValue(headers, 'idempotency-key')).toBeUndefined();
  });

  it('finds a name in a record or in [name, value] pairs whatever its case', () => {
    expect(headerValue({ 'Retry-After': '7' }, 'retry-after')).toBe('7');
    expect(headerValue([['IDEMPOTENCY-KEY', 'k1']], 'idempotency-key')).toBe('k1');
    expect(headerValue([['accept', '*/*']], 'idempotency-key')).toBeUndefined();
  });

  it('skips values that are not strings, such as the arrays Node gives repeated headers', () => {
    expect(headerValue({ 'retry-after': ['1', '2'] }, 'retry-after')).toBeUndefined();
    expect(headerValue({ 'Retry-After': 3, 'retry-after': '4' }, 'retry-after')).toBe('4');
  });

  it.each([undefined, null, 'retry-after: 5', 5])('reads nothing from %j', (headers) => {
    expect(headerValue(headers, 'retry-after')).toBeUndefined();
  });
});

describe('isRetrySafe with headers in each shape', () => {
  it('accepts a POST whose key is in Headers, a record or pairs, and refuses a blank key', () => {
    const post = (headers: ConstructorParameters<typeof Headers>[0] | Headers) => ({
      method: 'POST',
      headers: headers as Headers,
    });
    expect(isRetrySafe(post(new Headers({ 'Idempotency-Key': 'k' })))).toBe(true);
    expect(isRetrySafe(post({ 'Idempotency-Key': 'k' }))).toBe(true);
    expect(isRetrySafe(post([['idempotency-key', 'k']]))).toBe(true);
    expect(isRetrySafe(post({ 'Idempotency-Key': '  ' }))).toBe(false);
    expect(isRetrySafe(post(new Headers()))).toBe(false);
  });

  it('refuses a POST whose header record holds a non-string key value instead of throwing', () => {
    const headers = { 'idempotency-key': ['a', 'b'] } as unknown as Record<string, string>;
    expect(isRetrySafe({ method: 'POST', headers })).toBe(false);
  });
});
