import { describe, expect, it } from 'vitest';
import type { ClaimRequest } from './idempotency-store.js';
import { MemoryIdempotencyStore } from './memory-idempotency-store.js';

const hour = 3_600_000;
const claim = (key: string, now = 0, extra: Partial<ClaimRequest> = {}): ClaimRequest => ({
  scope: 's',
  key,
  fingerprint: 'fp',
  ownerToken: `owner-${key}`,
  now,
  leaseExpiresAt: now + 1_000,
  expiresAt: now + hour,
  ...extra,
});

describe('MemoryIdempotencyStore', () => {
  it('replays a JSON copy: later mutations do not leak, Dates come back as strings', async () => {
    const store = new MemoryIdempotencyStore();
    await store.claim(claim('k'));
    const result = { at: new Date(0), list: [1] };
    await store.complete({
      scope: 's',
      key: 'k',
      ownerToken: 'owner-k',
      result,
      now: 1,
      expiresAt: hour,
    });
    result.list.push(2);
    expect(await store.claim(claim('k', 2, { ownerToken: 'x' }))).toEqual({
      kind: 'completed',
      fingerprint: 'fp',
      result: { at: '1970-01-01T00:00:00.000Z', list: [1] },
    });
  });

  it('forgets the oldest completed records when full, never one in flight', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 3 });
    await store.claim(claim('in-flight'));
    for (const key of ['done-1', 'done-2']) {
      await store.claim(claim(key));
      await store.complete({
        scope: 's',
        key,
        ownerToken: `owner-${key}`,
        result: key,
        now: 1,
        expiresAt: hour,
      });
    }
    await store.claim(claim('new', 2));
    expect(store.size).toBe(3);
    // done-1 (the oldest completion) was evicted and can run again; the rest are kept.
    expect(await store.claim(claim('done-1', 3, { ownerToken: 'again' }))).toEqual({
      kind: 'claimed',
      takeover: false,
    });
    expect((await store.claim(claim('in-flight', 4, { ownerToken: 'dup' }))).kind).toBe(
      'in-flight',
    );
    // Claiming done-1 again evicted done-2; now every record is in flight, and the store grows
    // past its bound rather than drop a key that is in flight.
    await store.claim(claim('more', 5));
    await store.claim(claim('even-more', 6));
    expect(store.size).toBe(5);
    expect((await store.claim(claim('in-flight', 7, { ownerToken: 'dup' }))).kind).toBe(
      'in-flight',
    );
  });

  it('evicts a sixteenth of a full store at once, oldest claims first, and keeps working', () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 1_600 });
    const done = (key: string) =>
      store.complete({
        scope: 's',
        key,
        ownerToken: `owner-${key}`,
        result: 1,
        now: 1,
        expiresAt: hour,
      });
    for (let index = 0; index < 1_600; index++) {
      store.claim(claim(`k-${index}`));
      done(`k-${index}`);
    }
    store.claim(claim('next'));
    // The 101 oldest were forgotten in one pass (to just under 1 600 − 100), not one per claim.
    expect(store.size).toBe(1_500);
    expect(store.claim(claim('k-99', 2, { ownerToken: 'again' })).kind).toBe('claimed');
    expect(store.claim(claim('k-100', 2, { ownerToken: 'again' })).kind).toBe('claimed');
    expect(store.claim(claim('k-101', 2, { ownerToken: 'again' })).kind).toBe('completed');
    for (let index = 0; index < 50_000; index++) {
      store.claim(claim(`more-${index}`));
      done(`more-${index}`);
    }
    expect(store.size).toBeLessThanOrEqual(1_600);
  });

  it('answers synchronously, so the engine decides in the same tick', () => {
    const store = new MemoryIdempotencyStore();
    expect(store.claim(claim('k'))).toEqual({ kind: 'claimed', takeover: false });
    expect(
      store.extendLease({ scope: 's', key: 'k', ownerToken: 'owner-k', leaseExpiresAt: 5 }),
    ).toBe(true);
    expect(store.release({ scope: 's', key: 'k', ownerToken: 'owner-k' })).toBe(true);
    expect(store.deleteExpired(0)).toBe(0);
  });

  it('sweeps expired records before evicting live ones', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 2 });
    await store.claim(claim('short', 0, { expiresAt: 10 }));
    await store.claim(claim('live', 0));
    await store.claim(claim('new', 20));
    expect(store.size).toBe(2);
    expect((await store.claim(claim('live', 21, { ownerToken: 'dup' }))).kind).toBe('in-flight');
  });

  it('keeps one key apart across scopes, whatever the key looks like', async () => {
    const store = new MemoryIdempotencyStore();
    const pairs: Array<[string, string]> = [
      ['global', 'k'],
      ['other', 'k'],
      ['global', '\u00005:other:k'],
      ['global', '5:other:k'],
      ['5:other', 'k'],
    ];
    for (const [scope, key] of pairs) {
      expect(await store.claim({ ...claim(key), scope, ownerToken: `${scope}/${key}` })).toEqual({
        kind: 'claimed',
        takeover: false,
      });
    }
    expect(store.size).toBe(pairs.length);
  });

  it('sweeps expired records on its own as claims come in, without a timer', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 100_000 });
    for (let index = 0; index < 2_000; index++) {
      await store.claim(claim(`old-${index}`, 0, { expiresAt: 10 }));
    }
    for (let index = 0; index < 1_100; index++) await store.claim(claim(`new-${index}`, 20));
    // The 2 000 expired records were swept by a periodic sweep, not by a full store.
    expect(store.size).toBeLessThan(2_000);
  });

  it('validates its options', () => {
    expect(() => new MemoryIdempotencyStore({ maxEntries: 0 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'maxEntries' }),
      }),
    );
  });
});
