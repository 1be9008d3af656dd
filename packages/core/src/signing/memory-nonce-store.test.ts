import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { MemoryNonceStore } from './memory-nonce-store.js';

describe('MemoryNonceStore', () => {
  it('stores a nonce once and reports later sightings until it expires', async () => {
    const clock = new ManualClock(1_000);
    const store = new MemoryNonceStore({ clock });
    expect(await store.checkAndStore('a', 2_000)).toBe(true);
    expect(await store.checkAndStore('a', 2_000)).toBe(false);
    expect(await store.checkAndStore('b', 2_000)).toBe(true);
    await clock.advance(1_000);
    expect(await store.checkAndStore('a', 5_000)).toBe(false); // expiresAt is inclusive
    await clock.advance(1);
    expect(await store.checkAndStore('a', 5_000)).toBe(true);
  });

  it('lets exactly one of many concurrent claims of a nonce win', async () => {
    const store = new MemoryNonceStore({ clock: new ManualClock(0) });
    const results = await Promise.all(
      Array.from({ length: 100 }, () => store.checkAndStore('same', 10)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('sweeps expired nonces so memory stays bounded', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryNonceStore({ clock, maxEntries: 10 });
    for (let i = 0; i < 10; i++) expect(await store.checkAndStore(`n${i}`, 100)).toBe(true);
    expect(store.size).toBe(10);
    await clock.advance(101);
    expect(await store.checkAndStore('fresh', 500)).toBe(true);
    expect(store.size).toBe(1);
  });

  it('refuses new nonces when full of unexpired ones instead of forgetting any', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryNonceStore({ clock, maxEntries: 3 });
    for (const nonce of ['a', 'b', 'c']) await store.checkAndStore(nonce, 1_000);
    await expect(store.checkAndStore('d', 1_000)).rejects.toSatisfy((error) =>
      isBallastError(error, 'RATE_LIMITED'),
    );
    // Known nonces are still refused as replays, not forgotten.
    expect(await store.checkAndStore('a', 1_000)).toBe(false);
  });

  it('validates its options', () => {
    expect(() => new MemoryNonceStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
