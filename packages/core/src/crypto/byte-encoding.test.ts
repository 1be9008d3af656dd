import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeHex, encodeBase64, encodeHex } from './byte-encoding.js';
import { timingSafeEqual } from './timing-safe-equal.js';

describe('signature encoding', () => {
  it('round-trips any bytes through base64 and hex, matching Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const base64 = encodeBase64(bytes);
        expect(base64).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(base64)).toEqual(bytes);
        expect(encodeHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
        expect(decodeHex(encodeHex(bytes))).toEqual(bytes);
      }),
    );
  });

  it('encodes 64 KB without exceeding argument limits', () => {
    const bytes = new Uint8Array(65_536).map((_, index) => index % 251);
    expect(encodeBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
  });

  it.each([
    ['whitespace', 'QUJD RA=='],
    ['missing padding', 'QUJDRA'],
    ['url alphabet', 'ab-_'],
    ['non-zero trailing bits', 'QUJDRB=='],
    ['non-zero trailing bits (one pad)', 'QUJDREV='],
    ['stray padding', 'QU=D'],
  ])('refuses base64 with %s', (_name, text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });

  it('gives every byte string exactly one accepted base64 spelling', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), (bytes, at) => {
        const base64 = encodeBase64(bytes).replace(/=+$/, '');
        const index = at % base64.length;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
        for (const char of alphabet) {
          if (char === base64[index]) continue;
          const changed = base64.slice(0, index) + char + base64.slice(index + 1);
          const padded = changed.padEnd(Math.ceil(changed.length / 4) * 4, '=');
          const decoded = decodeBase64(padded);
          if (decoded) expect(decoded).not.toEqual(bytes);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses odd-length or non-hex text', () => {
    expect(decodeHex('abc')).toBeUndefined();
    expect(decodeHex('zz')).toBeUndefined();
    expect(decodeHex('ABcd')).toEqual(Uint8Array.from([0xab, 0xcd]));
  });
});

describe('timingSafeEqual', () => {
  it('agrees with byte equality', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        expect(timingSafeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
        expect(timingSafeEqual(a, Uint8Array.from(a))).toBe(true);
      }),
    );
  });
});
