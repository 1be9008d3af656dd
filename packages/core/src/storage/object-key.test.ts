import { MemoryObjectStorage, maxObjectKeyBytes } from '@ballast/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertObjectKey, compareObjectKeys } from './object-key.js';

const encoder = new TextEncoder();

function compareUtf8(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return Math.sign(x.length - y.length);
}

describe('compareObjectKeys()', () => {
  it('orders like UTF-8 bytes (S3), not like UTF-16 code units', () => {
    // U+FF61 is one UTF-16 unit above the surrogates, but below U+1F600 in UTF-8.
    expect('\uFF61' < '\u{1F600}').toBe(false);
    expect(compareObjectKeys('\uFF61', '\u{1F600}')).toBe(-1);
    expect(['b', 'a/2', 'a-1', 'a', '\u{1F600}', '\uFF61', 'é'].sort(compareObjectKeys)).toEqual([
      'a',
      'a-1',
      'a/2',
      'b',
      'é',
      '\uFF61',
      '\u{1F600}',
    ]);
  });

  it('agrees with a byte-by-byte UTF-8 comparison for any two strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(compareObjectKeys(a, b)).toBe(compareUtf8(a, b));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('assertObjectKey()', () => {
  it('accepts S3-legal keys and rejects empty, over-long, control-character and ill-formed keys', () => {
    expect(() => assertObjectKey('docs/ñ/a b+c.pdf')).not.toThrow();
    expect(() => assertObjectKey('é'.repeat(512))).not.toThrow();
    expect(() => assertObjectKey('emoji/😀.png')).not.toThrow();
    const ill = ['\ud800', 'a/\udc00', 'x\ud83d', '\ude00\ud83d'];
    for (const key of ['', 'é'.repeat(513), 'a\nb', 'nul\u0000', 42, ...ill]) {
      expect(() => assertObjectKey(key)).toThrow(
        expect.objectContaining({ code: 'INVALID_KEY', status: 400, details: { field: 'key' } }),
      );
    }
  });
});

describe('maxObjectKeyBytes', () => {
  it('is 1,024 UTF-8 bytes (S3), counted in bytes, not characters', () => {
    expect(maxObjectKeyBytes).toBe(1_024);
    // '€' is 3 UTF-8 bytes: 341 of them and one ASCII letter are exactly 1,024 bytes.
    const longest = `${'€'.repeat(341)}a`;
    expect(() => assertObjectKey(longest)).not.toThrow();
    expect(() => assertObjectKey(`${longest}a`)).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY', message: expect.stringContaining('1024') }),
    );
    expect(() => assertObjectKey('€'.repeat(342))).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
  });

  it('is the bound every storage call applies to its key', async () => {
    const storage = new MemoryObjectStorage();
    const longest = 'k'.repeat(maxObjectKeyBytes);
    expect((await storage.put(longest, 'x')).key).toBe(longest);
    await expect(storage.put(`${longest}k`, 'x')).rejects.toMatchObject({
      code: 'INVALID_KEY',
      details: { field: 'key' },
    });
  });
});
