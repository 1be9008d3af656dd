import { defaultMemoryIdempotencyMaxBytes } from '@ballast/core';
import { describe, expect, it, vi } from 'vitest';
import type { ClaimRequest } from './idempotency-store.js';
import { MemoryIdempotencyStore } from './memory-idempotency-store.js';

const hour = 3_600_000;
const quietLogger = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });
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

  const complete = (store: MemoryIdempotencyStore, key: string, result: unknown = key) =>
    store.complete({
      scope: 's',
      key,
      ownerToken: `owner-${key}`,
      result,
      now: 1,
      expiresAt: hour,
    });

  /** A store holding one record in flight and two completed ones, claimed in that order. */
  const threeRecords = (options: ConstructorParameters<typeof MemoryIdempotencyStore>[0] = {}) => {
    const store = new MemoryIdempotencyStore(options);
    store.claim(claim('in-flight'));
    for (const key of ['done-1', 'done-2']) {
      store.claim(claim(key));
      complete(store, key);
    }
    return store;
  };

  it('forgets the oldest completed records when full by bytes, never one in flight', () => {
    const full = threeRecords().bytes;
    const store = threeRecords({ maxBytes: full, logger: quietLogger() });
    store.claim(claim('new', 2));
    expect(store.size).toBe(3);
    // done-1 (the oldest completion) was evicted and can run again; the rest are kept.
    expect(store.claim(claim('done-1', 3, { ownerToken: 'again' }))).toEqual({
      kind: 'claimed',
      takeover: false,
    });
    expect(store.claim(claim('in-flight', 4, { ownerToken: 'dup' })).kind).toBe('in-flight');
    // Claiming done-1 again evicted done-2; now every record is in flight, and the store grows
    // past its bound rather than drop a key that is in flight.
    store.claim(claim('more', 5));
    store.claim(claim('even-more', 6));
    expect(store.size).toBe(5);
    expect(store.bytes).toBeGreaterThan(full);
    expect(store.claim(claim('in-flight', 7, { ownerToken: 'dup' })).kind).toBe('in-flight');
  });

  it('by default still replays a key after 30 000 other keys (the old 10 000-entry bound forgot it)', () => {
    const store = new MemoryIdempotencyStore({ logger: quietLogger() });
    const response = {
      status: 201,
      headers: [['content-type', 'application/json']],
      body: 'eyJpZCI6MX0=',
    };
    store.claim(claim('K'));
    complete(store, 'K', response);
    for (let index = 0; index < 30_000; index++) {
      const key = `other-${index}`;
      store.claim(claim(key));
      complete(store, key, response);
    }
    expect(store.claim(claim('K', 2, { ownerToken: 'retry' })).kind).toBe('completed');
  });

  it('counts bytes, so large recorded results take more room than small ones', () => {
    const store = new MemoryIdempotencyStore();
    store.claim(claim('small'));
    complete(store, 'small', 'x');
    const small = store.bytes;
    store.claim(claim('large'));
    complete(store, 'large', 'x'.repeat(10_000));
    expect(store.bytes - small).toBeGreaterThan(20_000);
    store.release({ scope: 's', key: 'in-flight', ownerToken: 'nobody' });
    store.claim(claim('gone'));
    const before = store.bytes;
    store.release({ scope: 's', key: 'gone', ownerToken: 'owner-gone' });
    expect(store.bytes).toBeLessThan(before);
  });

  it('emits evicted with withinTtl and warns at most once a minute when a live record goes', () => {
    const evicted: Array<{ key: string; withinTtl: boolean }> = [];
    const logger = quietLogger();
    const store = threeRecords({ maxBytes: threeRecords().bytes, logger });
    const unsubscribe = store.on('evicted', ({ key, withinTtl }) =>
      evicted.push({ key, withinTtl }),
    );
    store.claim(claim('new', 2));
    expect(evicted).toEqual([{ key: 'done-1', withinTtl: true }]);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatchObject({ evicted: 1 });
    // More evictions within the minute are counted, not logged; the next warning reports them.
    complete(store, 'new', 'x'.repeat(100));
    store.claim(claim('next', 3));
    expect(evicted.map(({ key }) => key)).toEqual(['done-1', 'done-2']);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    complete(store, 'next', 'x'.repeat(100));
    store.claim(claim('later', 70_000, { expiresAt: 70_000 + hour }));
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(logger.warn.mock.calls[1]?.[0]).toMatchObject({ evicted: 2 });
    unsubscribe();
    complete(store, 'later', 'x'.repeat(100));
    store.claim(claim('after', 70_001, { expiresAt: 70_001 + hour }));
    expect(evicted).toHaveLength(3);
  });

  it('reports an expired record dropped to make room as evicted outside its TTL', () => {
    const events: boolean[] = [];
    const probe = new MemoryIdempotencyStore();
    probe.claim(claim('a', 0, { expiresAt: 10 }));
    const store = new MemoryIdempotencyStore({
      maxBytes: probe.bytes,
      logger: quietLogger(),
      on: { evicted: ({ withinTtl }) => events.push(withinTtl) },
    });
    store.claim(claim('a', 0, { expiresAt: 10 }));
    store.claim(claim('b', 20));
    expect(events).toEqual([false]);
  });

  it('evicts a sixteenth of a full store at once, oldest claims first, and keeps working', () => {
    const probe = new MemoryIdempotencyStore();
    for (let index = 1_000; index < 2_600; index++) {
      probe.claim(claim(`k-${index}`));
      complete(probe, `k-${index}`, 1);
    }
    const store = new MemoryIdempotencyStore({ maxBytes: probe.bytes, logger: quietLogger() });
    for (let index = 1_000; index < 2_600; index++) {
      store.claim(claim(`k-${index}`));
      complete(store, `k-${index}`, 1);
    }
    store.claim(claim('next'));
    // The 101 oldest were forgotten in one pass (to just under 15/16 of the bound), not one per claim.
    expect(store.size).toBe(1_500);
    expect(store.claim(claim('k-1099', 2, { ownerToken: 'again' })).kind).toBe('claimed');
    expect(store.claim(claim('k-1100', 2, { ownerToken: 'again' })).kind).toBe('claimed');
    expect(store.claim(claim('k-1101', 2, { ownerToken: 'again' })).kind).toBe('completed');
    for (let index = 10_000; index < 60_000; index++) {
      store.claim(claim(`m-${index}`));
      complete(store, `m-${index}`, 1);
    }
    expect(store.bytes).toBeLessThanOrEqual(probe.bytes);
  });

  it('forgets the record claimed last with it: no completion lands after its release, expiry or sweep', () => {
    const store = new MemoryIdempotencyStore();
    const completeAt = (key: string, now: number) =>
      store.complete({
        scope: 's',
        key,
        ownerToken: `owner-${key}`,
        result: 1,
        now,
        expiresAt: hour,
      });

    store.claim(claim('released'));
    expect(store.release({ scope: 's', key: 'released', ownerToken: 'owner-released' })).toBe(true);
    expect(completeAt('released', 1)).toBe(false);
    expect(store.size).toBe(0);

    store.claim(claim('expired', 0, { leaseExpiresAt: 5, expiresAt: 10 }));
    expect(completeAt('expired', 10)).toBe(false);
    expect(store.size).toBe(0);

    store.claim(claim('swept', 0, { leaseExpiresAt: 5, expiresAt: 10 }));
    expect(store.deleteExpired(10)).toBe(1);
    expect(
      store.extendLease({
        scope: 's',
        key: 'swept',
        ownerToken: 'owner-swept',
        leaseExpiresAt: 20,
      }),
    ).toBe(false);
    expect(completeAt('swept', 10)).toBe(false);
    expect(store.size).toBe(0);

    // An earlier claim completes from the map while a later one is the last claimed.
    store.claim(claim('first'));
    store.claim(claim('second'));
    expect(completeAt('first', 1)).toBe(true);
    expect(completeAt('second', 1)).toBe(true);
    expect(store.claim(claim('first', 2, { ownerToken: 'other' }))).toMatchObject({
      kind: 'completed',
    });
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
    const probe = new MemoryIdempotencyStore();
    probe.claim(claim('short', 0, { expiresAt: 10 }));
    probe.claim(claim('live', 0));
    const store = new MemoryIdempotencyStore({ maxBytes: probe.bytes, logger: quietLogger() });
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

  it('names the scope and key of an evicted record, whatever they look like', () => {
    const evicted: Array<{ scope: string; key: string }> = [];
    const pairs: Array<[string, string]> = [
      ['global', 'k'],
      ['5:other', 'k:1'],
      ['global', '\u00005:other:k'],
    ];
    const probe = new MemoryIdempotencyStore();
    const store = new MemoryIdempotencyStore({
      maxBytes: 1,
      logger: quietLogger(),
      on: { evicted: ({ scope, key }) => evicted.push({ scope, key }) },
    });
    for (const target of [probe, store]) {
      for (const [scope, key] of pairs) {
        const ownerToken = `${scope}/${key}`;
        target.claim({ ...claim(key), scope, ownerToken });
        target.complete({ scope, key, ownerToken, result: 1, now: 1, expiresAt: hour });
      }
    }
    store.claim(claim('last'));
    // Each claim into the full store evicted the finished record before it.
    expect(evicted).toEqual(pairs.map(([scope, key]) => ({ scope, key })));
    expect(probe.size).toBe(pairs.length);
  });

  it('sweeps expired records on its own as claims come in, without a timer', async () => {
    const store = new MemoryIdempotencyStore();
    for (let index = 0; index < 2_000; index++) {
      await store.claim(claim(`old-${index}`, 0, { expiresAt: 10 }));
    }
    for (let index = 0; index < 1_100; index++) await store.claim(claim(`new-${index}`, 20));
    // The 2 000 expired records were swept by a periodic sweep, not by a full store.
    expect(store.size).toBeLessThan(2_000);
  });

  it('sweeps a record whose completion moved its expiry earlier than its claim gave it', async () => {
    const store = new MemoryIdempotencyStore();
    for (let index = 0; index < 2_000; index++) {
      const key = `old-${index}`;
      await store.claim(claim(key, 0));
      await store.complete({
        scope: 's',
        key,
        ownerToken: `owner-${key}`,
        result: 1,
        now: 0,
        expiresAt: 10,
      });
    }
    for (let index = 0; index < 1_100; index++) await store.claim(claim(`new-${index}`, 20));
    // Every claim promised an hour; the earlier expiry the completions gave still counts.
    expect(store.size).toBeLessThan(2_000);
  });

  it('keeps every record while none has expired, sweeps or not', async () => {
    const store = new MemoryIdempotencyStore();
    for (let index = 0; index < 3_000; index++) await store.claim(claim(`k-${index}`, index));
    expect(store.size).toBe(3_000);
    expect(store.deleteExpired(hour)).toBe(1);
    expect(store.size).toBe(2_999);
  });

  it('validates its options', () => {
    expect(() => new MemoryIdempotencyStore({ maxBytes: 0 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'maxBytes' }),
      }),
    );
  });
});

describe('defaultMemoryIdempotencyMaxBytes', () => {
  it('is 256 MiB, the bound of a store built without maxBytes', () => {
    expect(defaultMemoryIdempotencyMaxBytes).toBe(268_435_456);
    expect(new MemoryIdempotencyStore().maxBytes).toBe(defaultMemoryIdempotencyMaxBytes);
    expect(new MemoryIdempotencyStore({ logger: quietLogger() }).maxBytes).toBe(
      defaultMemoryIdempotencyMaxBytes,
    );
    expect(new MemoryIdempotencyStore({ maxBytes: 4_096 }).maxBytes).toBe(4_096);
  });

  it('names the store and the field when maxBytes is not a positive integer', () => {
    for (const maxBytes of [0, -1, 1.5, Number.NaN, '1024']) {
      expect(() => new MemoryIdempotencyStore({ maxBytes } as { maxBytes: number })).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('new MemoryIdempotencyStore()'),
          details: expect.objectContaining({ field: 'maxBytes' }),
        }),
      );
    }
  });
});
