/**
 * The contract every `OutboxStore` must meet, as one reusable suite. The relay relies on
 * exactly these properties (only committed rows, exclusive claims, leases that lapse, per-key
 * order, fencing by owner), so a store that passes here can be swapped under a relay; one that
 * fails would publish an event twice at once, lose one, or reorder an aggregate's events.
 */
import type { EventEnvelope, OutboxClaimRequest, OutboxStore } from '@ballast/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** An outbox under test: its relay side, and how to write to it. */
export interface OutboxUnderTest {
  readonly store: OutboxStore;
  /** Publishes `events` in one transaction of the outbox's writer, which commits. */
  commit(events: readonly EventEnvelope[]): Promise<void>;
  /** Publishes `events` in a transaction that then rolls back. */
  rollBack(events: readonly EventEnvelope[]): Promise<void>;
  close?(): Promise<void>;
}

let counter = 0;

/** A test event; `n` lands in the payload, so order is easy to read. */
export function testEvent(n: number, key?: string): EventEnvelope {
  counter += 1;
  const event = {
    type: 'contract.tested.v1',
    id: `e-${n}-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    occurredAt: new Date().toISOString(),
    payload: { n },
  };
  return key === undefined ? event : { ...event, key };
}

const ns = (entries: readonly { event: EventEnvelope }[]) =>
  entries.map((entry) => (entry.event.payload as { n: number }).n);

/**
 * Registers the outbox contract suite. `make` is called before each test and must return an
 * empty outbox (a fresh table for Postgres).
 */
export function describeOutboxContract(name: string, make: () => Promise<OutboxUnderTest>): void {
  describe(`OutboxStore contract: ${name}`, () => {
    let outbox: OutboxUnderTest;
    let store: OutboxStore;
    const now = Date.UTC(2026, 0, 1);
    const claim = (owner: string, overrides: Partial<OutboxClaimRequest> = {}) =>
      store.claim({ owner, limit: 100, now, leaseExpiresAt: now + 30_000, ...overrides });

    beforeEach(async () => {
      outbox = await make();
      store = outbox.store;
    });
    afterEach(async () => {
      await outbox.close?.();
    });

    it('hands out committed events in publication order, never rolled-back ones', async () => {
      await outbox.commit([testEvent(1), testEvent(2)]);
      await outbox.rollBack([testEvent(99)]);
      await outbox.commit([testEvent(3)]);
      const entries = await claim('a');
      expect(ns(entries)).toEqual([1, 2, 3]);
      expect(entries[0]?.attempts).toBe(0);
      expect(entries[0]?.event).toMatchObject({ type: 'contract.tested.v1', payload: { n: 1 } });
      expect(await store.depth()).toBe(3);
    });

    it('never hands one entry to two concurrent claims', async () => {
      await outbox.commit(Array.from({ length: 60 }, (_, i) => testEvent(i)));
      const batches = await Promise.all(
        ['a', 'b', 'c', 'd'].map((owner) => claim(owner, { limit: 20 })),
      );
      const ids = batches.flat().map((entry) => entry.event.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(60);
    });

    it('holds claimed entries under the lease, then hands them out again', async () => {
      await outbox.commit([testEvent(1)]);
      expect(await claim('a', { leaseExpiresAt: now + 1_000 })).toHaveLength(1);
      expect(await claim('b', { now: now + 999 })).toHaveLength(0);
      const again = await claim('b', { now: now + 1_000 });
      expect(ns(again)).toEqual([1]);
      // The first owner lost it: its markSent changes nothing.
      const ids = again.map((entry) => entry.event.id);
      expect(await store.markSent({ owner: 'a', ids, now })).toBe(0);
      expect(await store.markSent({ owner: 'b', ids, now })).toBe(1);
      expect(await store.markSent({ owner: 'b', ids, now })).toBe(0);
      expect(await store.depth()).toBe(0);
      expect(await claim('c', { now: now + 100_000 })).toHaveLength(0);
    });

    it('gives released entries back after retryAt, counting attempts', async () => {
      await outbox.commit([testEvent(1), testEvent(2)]);
      const entries = await claim('a');
      const ids = entries.map((entry) => entry.event.id);
      expect(await store.release({ owner: 'other', ids, now, retryAt: now })).toBe(0);
      expect(
        await store.release({ owner: 'a', ids, now, retryAt: now + 5_000, error: 'ECONNREFUSED' }),
      ).toBe(2);
      expect(await claim('b', { now: now + 4_999 })).toHaveLength(0);
      const again = await claim('b', { now: now + 5_000 });
      expect(again.map((entry) => entry.attempts)).toEqual([1, 1]);
    });

    it('keeps a key behind its earliest unsent entry, and a batch in key order', async () => {
      await outbox.commit([testEvent(1, 'k'), testEvent(2, 'j'), testEvent(3, 'k'), testEvent(4)]);
      await outbox.commit([testEvent(5, 'k'), testEvent(6, 'j')]);
      // One claim takes the whole of each key, in order.
      expect(ns(await claim('a', { limit: 10 }))).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('does not hand out a key’s later entry while an earlier one is held or waiting', async () => {
      await outbox.commit([testEvent(1, 'k'), testEvent(2, 'k'), testEvent(3, 'j')]);
      const first = await claim('a', { limit: 1 });
      expect(ns(first)).toEqual([1]);
      // k#2 must wait for k#1; j is free.
      expect(ns(await claim('b'))).toEqual([3]);
      const ids = first.map((entry) => entry.event.id);
      await store.release({ owner: 'a', ids, now, retryAt: now + 10_000 });
      expect(await claim('c', { now: now + 1_000 })).toHaveLength(0);
      // Once k#1 is free again both come, in order.
      expect(ns(await claim('c', { now: now + 10_000 }))).toEqual([1, 2]);
    });

    it('counts depth and deletes old sent entries, at most `limit` at a time', async () => {
      await outbox.commit([testEvent(1), testEvent(2), testEvent(3), testEvent(4)]);
      const entries = await claim('a');
      const ids = entries.map((entry) => entry.event.id);
      await store.markSent({ owner: 'a', ids: ids.slice(0, 3), now });
      expect(await store.depth()).toBe(1);
      expect(await store.deleteSent({ before: now, limit: 10 })).toBe(0);
      expect(await store.deleteSent({ before: now + 1, limit: 2 })).toBe(2);
      expect(await store.deleteSent({ before: now + 1, limit: 2 })).toBe(1);
      expect(await store.deleteSent({ before: now + 1, limit: 2 })).toBe(0);
      expect(await store.depth()).toBe(1);
    });

    it('gives entries back without counting an attempt when asked', async () => {
      await outbox.commit([testEvent(1)]);
      const ids = (await claim('a')).map((entry) => entry.event.id);
      await store.release({ owner: 'a', ids, now, retryAt: now, countAttempt: false });
      expect((await claim('b')).map((entry) => entry.attempts)).toEqual([0]);
    });

    it('parks a held entry as dead: never claimed, listed, its key blocked, out of depth', async () => {
      const park = store.park?.bind(store);
      if (park === undefined) throw new Error('this store has no dead letters');
      await outbox.commit([testEvent(1, 'k'), testEvent(2, 'k'), testEvent(3, 'j'), testEvent(4)]);
      const [first] = await claim('a', { limit: 1 });
      const id = first?.event.id ?? '';
      expect(await park({ owner: 'other', ids: [id], now, error: 'nope' })).toBe(0);
      expect(await park({ owner: 'a', ids: [id], now, error: 'EVENT_INVALID: too large' })).toBe(1);
      // k#2 waits behind the dead k#1, however late it is; j and the keyless one flow.
      expect(ns(await claim('b', { now: now + 86_400_000 }))).toEqual([3, 4]);
      expect(await store.depth()).toBe(3);
      const dead = (await store.deadLetters?.()) ?? [];
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ attempts: 1, lastError: 'EVENT_INVALID: too large' });
      expect(dead[0]?.event.id).toBe(id);
      expect(dead[0]?.failedAt).toBe(now);
      expect(await park({ owner: 'a', ids: [id], now, error: 'again' })).toBe(0);
    });

    it('redrives dead entries by id, type or time, attempts reset, in key order', async () => {
      await outbox.commit([testEvent(1, 'k'), testEvent(2, 'k'), testEvent(3), testEvent(4)]);
      const entries = await claim('a');
      const [k1, , e3, e4] = entries.map((entry) => entry.event.id);
      await store.park?.({ owner: 'a', ids: [k1 ?? ''], now, error: 'x' });
      await store.park?.({ owner: 'a', ids: [e3 ?? ''], now: now + 10, error: 'y' });
      await store.park?.({ owner: 'a', ids: [e4 ?? ''], now: now + 20, error: 'z' });
      await store.release({ owner: 'a', ids: [entries[1]?.event.id ?? ''], now, retryAt: now });
      expect((await store.deadLetters?.({ limit: 2 }))?.map((row) => row.lastError)).toEqual([
        'x',
        'y',
      ]);
      expect(await store.redrive?.({ type: 'other.type.v1' })).toBe(0);
      expect(await store.redrive?.({ since: new Date(now + 20) })).toBe(1);
      expect(await store.redrive?.({ ids: [k1 ?? ''] })).toBe(1);
      const again = await claim('b', { now: now + 1 });
      expect(ns(again)).toEqual([1, 2, 4]);
      expect(again.map((entry) => entry.attempts)).toEqual([0, 1, 0]);
      expect(await store.redrive?.()).toBe(1);
      expect(await store.deadLetters?.()).toEqual([]);
      await expect(store.redrive?.({ ids: 'nope' } as never)).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
      });
    });

    it('signals commits (not rollbacks) to onCommit listeners, when it offers them', async () => {
      if (store.onCommit === undefined) return;
      let woken = 0;
      const wakeUp = new Promise<void>((resolve) => {
        const unsubscribe = store.onCommit?.(() => {
          woken += 1;
          unsubscribe?.();
          resolve();
        });
      });
      // A LISTEN connection may take a moment to be up; keep committing until one arrives.
      for (let i = 0; i < 50 && woken === 0; i++) {
        await outbox.rollBack([testEvent(i)]);
        await outbox.commit([testEvent(i)]);
        await Promise.race([wakeUp, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
      expect(woken).toBe(1);
    });
  });
}
