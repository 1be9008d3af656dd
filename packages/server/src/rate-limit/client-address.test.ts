import { describe, expect, it } from 'vitest';
import { allowListMatcher, canonicalClientAddress } from './client-address.js';

describe('canonicalClientAddress', () => {
  it('writes every spelling of one address the same way', () => {
    expect(canonicalClientAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(canonicalClientAddress('::FFFF:0a01:0203')).toBe('10.1.2.3');
    expect(canonicalClientAddress('10.1.2.3')).toBe('10.1.2.3');
    const one = canonicalClientAddress('2001:db8::1');
    for (const spelling of ['2001:DB8::1', '2001:0db8:0:0:0:0:0:0001', '2001:db8::1%eth0']) {
      expect(canonicalClientAddress(spelling), spelling).toBe(one);
    }
    expect(canonicalClientAddress('not an address')).toBe('not an address');
  });
});

describe('allowListMatcher', () => {
  it('matches a listed client however either side spelled it, and nothing else', () => {
    const isAllowed = allowListMatcher(['10.1.2.3', '::1']);
    expect(isAllowed('::ffff:10.1.2.3')).toBe(true);
    expect(isAllowed('0:0:0:0:0:0:0:1')).toBe(true);
    expect(isAllowed('10.1.2.4')).toBe(false);
    // Only the mapped form carries an IPv4 client; the /96 of another prefix is another address.
    expect(isAllowed('64:ff9b::10.1.2.3')).toBe(false);
    expect(isAllowed(undefined)).toBe(false);
    expect(allowListMatcher([])('127.0.0.1')).toBe(false);
  });
});
