import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { runsWaitingOn } from './abortable-run.js';
import { withTimeout } from './with-timeout.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('withTimeout', () => {
  it('resolves with the result of work that finishes in time and releases its timer', async () => {
    const clock = new ManualClock();
    const work = deferred<string>();
    let seen: AbortSignal | undefined;
    const result = withTimeout(
      (signal) => {
        seen = signal;
        return work.promise;
      },
      1_000,
      { clock },
    );
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(999);
    work.resolve('done');
    await expect(result).resolves.toBe('done');
    expect(clock.pendingTimers).toBe(0);
    // A response body may still be read through the signal: it must not abort after success.
    await clock.advance(10_000);
    expect(seen?.aborted).toBe(false);
  });

  it('rejects with TIMEOUT at the limit and aborts the work through its signal', async () => {
    const clock = new ManualClock();
    const events: string[] = [];
    const result = withTimeout(
      (signal) =>
        new Promise<never>(() => {
          signal.addEventListener('abort', () => events.push(`aborted at ${clock.now()}`));
        }),
      250,
      { clock },
    );
    const outcome = result.catch((error: unknown) => error);
    await clock.advance(249);
    expect(events).toEqual([]);
    await clock.advance(1);
    const error = await outcome;
    expect(isBallastError(error, 'TIMEOUT')).toBe(true);
    if (!isBallastError(error)) return;
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(504);
    expect(error.details).toEqual({ timeoutMs: 250 });
    expect(events).toEqual(['aborted at 250']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('gives the work a signal whose reason is the TIMEOUT error', async () => {
    const clock = new ManualClock();
    let seen: AbortSignal | undefined;
    const result = withTimeout(
      (signal) => {
        seen = signal;
        return new Promise<never>(() => {});
      },
      10,
      { clock },
    ).catch((error: unknown) => error);
    await clock.advance(10);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(await result);
  });

  it('settles at the limit even when the work ignores its signal, and drops its late failure', async () => {
    const clock = new ManualClock();
    const work = deferred<string>();
    const result = withTimeout(() => work.promise, 100, { clock }).catch((e: unknown) => e);
    await clock.advance(100);
    expect(isBallastError(await result, 'TIMEOUT')).toBe(true);
    // A late rejection must not surface as an unhandled rejection (vitest fails the run if it does).
    work.reject(new Error('late failure'));
    await clock.advance(1);
  });

  it("rejects at once with the outer signal's reason and aborts the work with it", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = withTimeout(
      (signal) => {
        seen = signal;
        return new Promise<never>(() => {});
      },
      60_000,
      { clock, signal: controller.signal },
    );
    const reason = new Error('user navigated away');
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(seen?.reason).toBe(reason);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not start the work when the outer signal is already aborted', async () => {
    const clock = new ManualClock();
    let called = false;
    const result = withTimeout(
      () => {
        called = true;
        return 1;
      },
      100,
      { clock, signal: AbortSignal.abort('gone') },
    );
    await expect(result).rejects.toBe('gone');
    expect(called).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('passes failures through and releases the timer and the abort listener', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const failure = new Error('boom');
    await expect(
      withTimeout(() => Promise.reject(failure), 100, { clock, signal: controller.signal }),
    ).rejects.toBe(failure);
    await expect(
      withTimeout(
        () => {
          throw failure;
        },
        100,
        { clock },
      ),
    ).rejects.toBe(failure);
    expect(clock.pendingTimers).toBe(0);
    // The listener is gone: aborting now changes nothing and throws nothing.
    controller.abort();
  });

  it('adds one abort listener to a shared signal however many runs wait on it', async () => {
    const clock = new ManualClock();
    const shutdown = new AbortController();
    const runs = Array.from({ length: 50 }, () =>
      withTimeout(() => new Promise<never>(() => {}), 1_000, { clock, signal: shutdown.signal }),
    );
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    shutdown.abort('shutting down');
    const outcomes = await Promise.allSettled(runs);
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason === 'shutting down')).toBe(
      true,
    );
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends exactly the runs still waiting when a shared signal aborts, whichever settled first', async () => {
    const clock = new ManualClock();
    const shutdown = new AbortController();
    const finish: Array<(value: number) => void> = [];
    const runs = Array.from({ length: 20 }, (_, index) =>
      withTimeout(
        () =>
          new Promise<number>((resolve) => {
            finish[index] = resolve;
          }),
        1_000,
        { clock, signal: shutdown.signal },
      ),
    );
    // Runs leave the list from the middle, the ends and out of order.
    for (const index of [7, 0, 19, 8, 3, 12]) finish[index]?.(index);
    await Promise.resolve();
    expect(runsWaitingOn(shutdown.signal)).toBe(14);
    for (const index of [5, 13]) finish[index]?.(index);
    await Promise.resolve();
    expect(runsWaitingOn(shutdown.signal)).toBe(12);
    shutdown.abort('shutting down');
    const outcomes = await Promise.allSettled(runs);
    const settled = [0, 3, 5, 7, 8, 12, 13, 19];
    outcomes.forEach((outcome, index) => {
      if (settled.includes(index)) expect(outcome).toEqual({ status: 'fulfilled', value: index });
      else expect(outcome).toEqual({ status: 'rejected', reason: 'shutting down' });
    });
    expect(clock.pendingTimers).toBe(0);
    expect(runsWaitingOn(shutdown.signal)).toBe(0);
  });

  it('accepts plain values as well as promises', async () => {
    await expect(withTimeout(() => 42, 100, { clock: new ManualClock() })).resolves.toBe(42);
  });

  it.each([
    ['fn', () => withTimeout('nope' as never, 100)],
    ['ms', () => withTimeout(() => 1, -5)],
    ['ms', () => withTimeout(() => 1, Number.NaN)],
    ['options.signal', () => withTimeout(() => 1, 5, { signal: 'x' as never })],
    ['options.clock', () => withTimeout(() => 1, 5, { clock: {} as never })],
  ])('rejects bad input with INVALID_OPTIONS naming %s', async (field, call) => {
    const error = await call().catch((e: unknown) => e);
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    if (isBallastError(error)) expect(error.details.field).toBe(field);
  });
});
