import { afterEach, describe, expect, it, vi } from 'vitest';
import { createIdempotencyKey } from './idempotency-key.js';

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('createIdempotencyKey', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is a UUID v4 from crypto.randomUUID', () => {
    expect(createIdempotencyKey()).toMatch(uuidV4);
  });

  it('builds a UUID v4 from random bytes where randomUUID is missing (insecure contexts)', () => {
    const { getRandomValues } = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: getRandomValues.bind(globalThis.crypto) });
    const keys = new Set(Array.from({ length: 200 }, () => createIdempotencyKey()));
    expect(keys.size).toBe(200);
    for (const key of keys) expect(key).toMatch(uuidV4);
  });

  it('uses every random bit it may: all ones give the highest digits, all zeros the lowest', () => {
    for (const [fill, expected] of [
      [0xff, 'ffffffff-ffff-4fff-bfff-ffffffffffff'],
      [0x00, '00000000-0000-4000-8000-000000000000'],
    ] as const) {
      vi.stubGlobal('crypto', { getRandomValues: (array: Uint8Array) => array.fill(fill) });
      expect(createIdempotencyKey()).toBe(expected);
    }
  });
});
