import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { createRetryBudget } from './retry-budget.js';

describe('createRetryBudget', () => {
  it('allows the floor plus ratio × calls retries in the window', () => {
    const clock = new ManualClock();
    const budget = createRetryBudget({
      ratio: 0.1,
      minRetriesPerSecond: 0.5,
      windowMs: 10_000,
      clock,
    });
    // Floor: 0.5/s × 10 s = 5 retries. 20 calls add 2 more.
    for (let i = 0; i < 20; i++) budget.recordCall();
    const granted = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(7);
    expect(budget.stats).toEqual({ calls: 20, retries: 7, available: 0, refused: 3 });
  });

  it('forgets calls and retries that slid out of the window, slot by slot', async () => {
    const clock = new ManualClock();
    const budget = createRetryBudget({ ratio: 1, minRetriesPerSecond: 0, windowMs: 1_000, clock });
    budget.recordCall(); // at 0
    await clock.advance(500);
    budget.recordCall(); // at 500
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    await clock.advance(500); // the call at 0 leaves the window
    expect(budget.stats).toMatchObject({ calls: 1, retries: 2, available: 0 });
    await clock.advance(500); // everything at 500 leaves it too
    expect(budget.stats).toMatchObject({ calls: 0, retries: 0, available: 0 });
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
  });

  it('empties the window when the clock jumps backwards', () => {
    const clock = new ManualClock(100_000);
    const budget = createRetryBudget({ ratio: 0, minRetriesPerSecond: 0.1, window: 10_000, clock });
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    clock.setNow(50_000);
    expect(budget.tryRetry()).toBe(true);
  });

  it('uses the defaults: 10% of calls plus 10 retries a second over 10 s', () => {
    const budget = createRetryBudget({ clock: new ManualClock() });
    for (let i = 0; i < 1_000; i++) budget.recordCall();
    expect(budget.stats.available).toBe(200);
  });

  it('still accepts the deprecated window, with the same meaning as windowMs', () => {
    const clock = new ManualClock();
    const old = createRetryBudget({ ratio: 0, minRetriesPerSecond: 1, window: 5_000, clock });
    const current = createRetryBudget({ ratio: 0, minRetriesPerSecond: 1, windowMs: 5_000, clock });
    expect(old.stats.available).toBe(5);
    expect(current.stats.available).toBe(5);
  });

  it.each([
    ['ratio', { ratio: -0.1 }],
    ['minRetriesPerSecond', { minRetriesPerSecond: Number.NaN }],
    ['windowMs', { windowMs: 0 }],
    ['window', { window: 0 }],
    ['window', { windowMs: 1_000, window: 1_000 }],
    ['clock', { clock: {} }],
  ])('rejects a bad %s with INVALID_OPTIONS', (field, options) => {
    try {
      createRetryBudget(options as never);
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      if (isBallastError(error)) expect(error.details.field).toBe(field);
    }
  });
});
