import { describe, expect, it } from 'vitest';
import { ManualClock } from './manual-clock.js';
import { systemClock } from './system-clock.js';

describe('ManualClock', () => {
  it('fires timers in due order, each at its own time', async () => {
    const clock = new ManualClock(1_000);
    const fired: Array<[string, number]> = [];
    clock.setTimer(() => fired.push(['b', clock.now()]), 200);
    clock.setTimer(() => fired.push(['a', clock.now()]), 100);
    await clock.advance(150);
    expect(fired).toEqual([['a', 1_100]]);
    await clock.advance(50);
    expect(fired).toEqual([
      ['a', 1_100],
      ['b', 1_200],
    ]);
    expect(clock.now()).toBe(1_200);
  });

  it('follows chains of sleeps started by woken code', async () => {
    const clock = new ManualClock();
    const wakes: number[] = [];
    const loop = (async () => {
      for (const ms of [500, 1_000, 2_000]) {
        await clock.sleep(ms);
        wakes.push(clock.now());
      }
    })();
    await clock.advance(3_500);
    await loop;
    expect(wakes).toEqual([500, 1_500, 3_500]);
  });

  it('rejects a sleep at once with the abort reason and drops its timer', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(10_000, controller.signal);
    expect(clock.pendingTimers).toBe(1);
    controller.abort(new Error('user left'));
    await expect(sleeping).rejects.toThrow('user left');
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects a sleep on an already aborted signal', async () => {
    const clock = new ManualClock();
    await expect(clock.sleep(1, AbortSignal.abort('gone'))).rejects.toBe('gone');
  });

  it('cancels timers and runs all remaining ones on request', async () => {
    const clock = new ManualClock();
    let count = 0;
    const cancel = clock.setTimer(() => count++, 10);
    clock.setTimer(() => count++, 20);
    cancel();
    cancel();
    await clock.runAll();
    expect(count).toBe(1);
    expect(clock.now()).toBe(20);
  });
});

describe('systemClock', () => {
  it('sleeps for real and can be aborted', async () => {
    const started = Date.now();
    await systemClock.sleep(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4);
    await expect(systemClock.sleep(10_000, AbortSignal.timeout(5))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });
});
