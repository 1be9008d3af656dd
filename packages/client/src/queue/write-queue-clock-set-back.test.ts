/**
 * The write queue on a device whose clock is set back (an NTP or manual correction): a write's
 * backoff, a crashed tab's `sending` mark and the flush lease were all stamped by the wrong
 * clock, hours ahead. None may hold the queue until the clock catches up.
 */
import { type Clock, ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFakeApi } from '../../test/support/fake-api.js';
import { createClient } from '../fetch/create-client.js';
import { createMemoryQueueStorage, mayClaimLease, type QueueStorage } from './queue-storage.js';
import { createWriteQueue, type WriteQueue } from './write-queue.js';

const hour = 3_600_000;
const start = 1_000_000_000;

const open: WriteQueue[] = [];
afterEach(() => {
  for (const queue of open.splice(0)) queue.close();
});

/**
 * A wall clock that can be set back while its timers keep running, as the platform's do:
 * `setTimeout` counts elapsed time, `Date.now()` jumps.
 */
function correctableClock() {
  const timers = new ManualClock(start);
  let setBackBy = 0;
  const clock: Clock = {
    now: () => timers.now() - setBackBy,
    sleep: (ms, signal) => timers.sleep(ms, signal),
    setTimer: (callback, ms) => timers.setTimer(callback, ms),
  };
  return {
    clock,
    setBack: (ms: number) => {
      setBackBy += ms;
    },
    advance: (ms: number) => timers.advance(ms),
  };
}

function till(storage: QueueStorage = createMemoryQueueStorage()) {
  const api = createFakeApi();
  const time = correctableClock();
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: api.fetch,
    retry: { writes: 0 },
  });
  const queue = createWriteQueue({ client, storage, lock: 'lease', clock: time.clock });
  open.push(queue);
  return { api, queue, storage, ...time };
}

/** A write a tab closed mid-request left `sending` at `since`. */
function leftSending(since: number) {
  return {
    schemaVersion: 1,
    id: 'w-crashed',
    idempotencyKey: 'w-crashed',
    method: 'POST',
    path: '/sales',
    body: { item: 'coffee', quantity: 1 },
    priority: 'medium',
    createdAt: new Date(since),
    sequence: 1,
    state: 'sending',
    attempts: 1,
    sendingSince: new Date(since),
  };
}

describe('createWriteQueue on a clock set back', () => {
  it('a write backing off is sent at its backoff, not hours later when the clock catches up', async () => {
    const { api, queue, setBack, advance } = till();
    api.online = false;
    await expect(
      queue.send({ path: '/sales', body: { item: 'tea', quantity: 1 } }),
    ).resolves.toMatchObject({
      queued: true,
    });
    setBack(3 * hour);
    api.online = true;
    // The backoff's timer fires after 1 s, the periodic flush after 30 s: neither is forced.
    await advance(30_000);
    await vi.waitFor(async () => expect(await queue.list()).toEqual([]));
    expect(api.sales).toHaveLength(1);
  });

  it('a write a crashed tab left sending before the correction is taken over at once, with its key', async () => {
    const storage = createMemoryQueueStorage();
    await storage.put('w-crashed', leftSending(start));
    const { api, queue, setBack, advance } = till(storage);
    setBack(3 * hour);
    // Stamped hours in this clock's future: the tab that stamped it cannot be sending it now.
    await advance(30_000); // the periodic flush
    await vi.waitFor(async () => expect(await queue.list()).toEqual([]));
    expect(api.requests.map((request) => request.key)).toEqual(['"w-crashed"']);
  });

  it('a small step back still waits out another tab that is sending, so it is not sent twice at once', async () => {
    const storage = createMemoryQueueStorage();
    // Stamped 10 s ahead of this tab's clock: within one lease, the mark stands.
    await storage.put('w-crashed', leftSending(start + 10_000));
    const { api, queue, advance } = till(storage);
    await advance(30_000);
    expect(api.requests).toHaveLength(0);
    expect(await queue.list()).toMatchObject([{ state: 'sending' }]);
    await advance(60_000); // past the lease as stamped
    await vi.waitFor(async () => expect(await queue.list()).toEqual([]));
  });

  it('a flush lease claimed by the clock before the correction does not block the flush', async () => {
    const storage = createMemoryQueueStorage();
    expect(await storage.claimLease('crashed-tab', start, start + 30_000)).toBe(true);
    const { api, queue, setBack, advance } = till(storage);
    setBack(3 * hour);
    api.online = false;
    await queue.send({ path: '/sales', body: { item: 'tea', quantity: 1 } });
    api.online = true;
    await advance(30_000);
    await vi.waitFor(async () => expect(await queue.list()).toEqual([]));
    expect(api.sales).toHaveLength(1);
  });

  it('a lease is free when it ended, or runs more than one lease length past a claim made now', () => {
    const lease = { owner: 'a', until: 60_000 };
    // A claim at `now` runs to now + 30 s.
    expect(mayClaimLease(lease, 'b', 40_000, 70_000)).toBe(false);
    expect(mayClaimLease(lease, 'b', 10_000, 40_000)).toBe(false); // set back 20 s: waited out
    expect(mayClaimLease(lease, 'b', 0, 30_000)).toBe(false); // exactly one length: still held
    expect(mayClaimLease(lease, 'b', -1, 29_999)).toBe(true); // set back further: stale
    expect(mayClaimLease(lease, 'b', 60_000, 90_000)).toBe(true);
    expect(mayClaimLease(lease, 'a', 40_000, 70_000)).toBe(true);
    expect(mayClaimLease(undefined, 'b', 40_000, 70_000)).toBe(true);
  });
});
