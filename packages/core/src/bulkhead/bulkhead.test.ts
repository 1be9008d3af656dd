import { describe, expect, it } from 'vitest';
import { isBallastError } from '../errors/ballast-error.js';
import { createBulkhead } from './bulkhead.js';

/** A call the test finishes by hand. */
function gate<T = string>() {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('bulkhead', () => {
  it('runs up to maxConcurrent at once, queues up to maxQueued, rejects the rest with QUEUE_FULL', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 2, maxQueued: 1 });
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const calls = gates.map((g, i) =>
      bulkhead.execute(() => {
        started.push(i);
        return g.promise;
      }),
    );
    expect(started).toEqual([0, 1]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 1]);
    expect([bulkhead.availableSlots, bulkhead.availableQueue]).toEqual([0, 0]);

    const rejected = await bulkhead.execute(() => 'never').catch((e: unknown) => e);
    expect(isBallastError(rejected, 'QUEUE_FULL')).toBe(true);
    if (isBallastError(rejected)) {
      expect(rejected.retryable).toBe(true);
      expect(rejected.status).toBe(503);
      expect(rejected.details).toEqual({ maxConcurrent: 2, maxQueued: 1 });
    }

    gates[0]?.open('a');
    await expect(calls[0]).resolves.toBe('a');
    await tick();
    expect(started).toEqual([0, 1, 2]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 0]);
    gates[1]?.open('b');
    gates[2]?.open('c');
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c']);
    expect([bulkhead.active, bulkhead.queued, bulkhead.availableSlots]).toEqual([0, 0, 2]);
  });

  it('starts queued callers in arrival order, and a newcomer never overtakes the queue', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueued: 10 });
    const order: string[] = [];
    const first = gate();
    const running = bulkhead.execute(() => first.promise);
    const gates = { w1: gate(), w2: gate(), w3: gate() };
    const waiting = Object.entries(gates).map(([name, g]) =>
      bulkhead.execute(() => {
        order.push(name);
        return g.promise;
      }),
    );
    first.open('done');
    await running;
    // The freed slot went straight to w1; a newcomer arriving now queues behind w2 and w3
    // instead of slipping into the slot between two waiters.
    expect(order).toEqual(['w1']);
    expect([bulkhead.active, bulkhead.queued]).toEqual([1, 2]);
    const late = bulkhead.execute(async () => {
      order.push('late');
    });
    for (const g of Object.values(gates)) {
      g.open('ok');
      await tick();
    }
    await Promise.all([...waiting, late]);
    expect(order).toEqual(['w1', 'w2', 'w3', 'late']);
  });

  it('frees the slot when a call fails, and passes the failure through', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1 });
    const error = new Error('boom');
    await expect(bulkhead.execute(() => Promise.reject(error))).rejects.toBe(error);
    await expect(
      bulkhead.execute(() => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect(bulkhead.active).toBe(0);
    await expect(bulkhead.execute(() => 42)).resolves.toBe(42);
  });

  it('removes an aborted waiter from the queue and rejects it with the reason', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueued: 2 });
    const first = gate();
    const running = bulkhead.execute(() => first.promise);
    const controller = new AbortController();
    let abortedRan = false;
    const aborted = bulkhead.execute(
      async () => {
        abortedRan = true;
      },
      { signal: controller.signal },
    );
    const next = bulkhead.execute(async () => 'next');
    expect(bulkhead.queued).toBe(2);
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(bulkhead.queued).toBe(1);
    first.open('first');
    await expect(running).resolves.toBe('first');
    await expect(next).resolves.toBe('next');
    expect(abortedRan).toBe(false);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });

  it('rejects at once with the reason of an already aborted signal', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1 });
    await expect(bulkhead.execute(() => 1, { signal: AbortSignal.abort('gone') })).rejects.toBe(
      'gone',
    );
    expect(bulkhead.active).toBe(0);
  });

  it('ignores an abort after the waiter started running', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueued: 1 });
    const first = gate();
    const running = bulkhead.execute(() => first.promise);
    const controller = new AbortController();
    const second = gate();
    const queued = bulkhead.execute(() => second.promise, { signal: controller.signal });
    first.open('a');
    await running;
    await tick();
    controller.abort('too late');
    second.open('b');
    await expect(queued).resolves.toBe('b');
  });

  it.each([
    ['maxConcurrent', { maxConcurrent: 0 }],
    ['maxConcurrent', {}],
    ['maxQueued', { maxConcurrent: 1, maxQueued: -1 }],
    ['maxQueued', { maxConcurrent: 1, maxQueued: 1.5 }],
  ])('rejects a bad %s with INVALID_OPTIONS', (field, options) => {
    try {
      createBulkhead(options as never);
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      if (isBallastError(error)) expect(error.details.field).toBe(field);
    }
  });

  it('rejects a non-function call and a bad signal with INVALID_OPTIONS', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1 });
    const fn = await bulkhead.execute(5 as never).catch((e: unknown) => e);
    expect(isBallastError(fn) && fn.details.field).toBe('fn');
    const signal = await bulkhead
      .execute(() => 1, { signal: 'x' as never })
      .catch((e: unknown) => e);
    expect(isBallastError(signal) && signal.details.field).toBe('signal');
  });
});
