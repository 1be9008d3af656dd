import { describe, expect, it } from 'vitest';
import { ManualClock } from './manual-clock.js';
import { SlidingWindow } from './sliding-window.js';

describe('SlidingWindow', () => {
  it('counts each kind over the last window, dropping whole slots as time passes', async () => {
    const clock = new ManualClock();
    const window = new SlidingWindow(clock, 1_000, ['calls', 'failures']);
    window.add('calls', 3);
    window.add('failures');
    await clock.advance(450);
    window.add('calls');
    expect([window.total('calls'), window.total('failures')]).toEqual([4, 1]);
    await clock.advance(550); // t=1000: the slot of t=0 leaves the window
    expect([window.total('calls'), window.total('failures')]).toEqual([1, 0]);
    await clock.advance(5_000); // far past: everything leaves
    expect(window.total('calls')).toBe(0);
    window.add('calls');
    expect(window.total('calls')).toBe(1);
  });

  it('forgets everything on clear() and when the clock jumps backwards', () => {
    const clock = new ManualClock(50_000);
    const window = new SlidingWindow(clock, 10_000, ['calls']);
    window.add('calls', 5);
    window.clear();
    expect(window.total('calls')).toBe(0);
    window.add('calls', 2);
    clock.setNow(10_000);
    expect(window.total('calls')).toBe(0);
  });
});
