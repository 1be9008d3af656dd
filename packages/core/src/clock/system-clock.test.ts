import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withTimeout } from '../timeout/with-timeout.js';
import { systemClock } from './system-clock.js';

const maxTimerMs = 2 ** 31 - 1;

describe('systemClock timers longer than setTimeout allows', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    // The setTimeout spy first: left in place it would wrap the fake timers for every later
    // test file that shares this worker.
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('never hands setTimeout more than 2³¹−1 ms, and fires at the requested time', () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const fired = vi.fn();
    systemClock.setTimer(fired, 2 ** 31 + 5_000);
    for (const call of setTimeoutSpy.mock.calls) expect(call[1]).toBeLessThanOrEqual(maxTimerMs);
    vi.advanceTimersByTime(maxTimerMs);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5_000);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
    for (const call of setTimeoutSpy.mock.calls) expect(call[1]).toBeLessThanOrEqual(maxTimerMs);
  });

  it('cancels a chained timer at any step', () => {
    const fired = vi.fn();
    const cancel = systemClock.setTimer(fired, 3 * maxTimerMs);
    vi.advanceTimersByTime(maxTimerMs + 1);
    cancel();
    vi.advanceTimersByTime(3 * maxTimerMs);
    expect(fired).not.toHaveBeenCalled();
  });

  it('lets withTimeout(fn, 2 ** 31) run instead of timing out at once', async () => {
    const outcome = withTimeout(() => new Promise(() => {}), 2 ** 31).catch((error) => error);
    let settled = false;
    void outcome.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(2 ** 31);
    expect(settled).toBe(true);
  });
});
