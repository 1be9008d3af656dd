import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { parseDuration } from './duration.js';
import { scheduleReconciliation } from './schedule-reconciliation.js';

const hour = 3_600_000;

/** A run that finishes when the test says so. */
function controllableRun() {
  const runs: Array<{
    signal: AbortSignal;
    finish: (value: number) => void;
    fail: (e: unknown) => void;
  }> = [];
  const run = (signal: AbortSignal) =>
    new Promise<number>((resolve, reject) => {
      runs.push({ signal, finish: resolve, fail: reject });
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  return { runs, run };
}

describe('scheduleReconciliation()', () => {
  it("runs every '2h' and reports each result", async () => {
    const clock = new ManualClock();
    const results: number[] = [];
    let n = 0;
    const schedule = scheduleReconciliation({
      every: '2h',
      clock,
      run: async () => ++n,
      onResult: (r) => results.push(r),
    });
    await clock.advance(2 * hour - 1);
    expect(n).toBe(0);
    await clock.advance(1);
    expect(results).toEqual([1]);
    await clock.advance(4 * hour);
    expect(results).toEqual([1, 2, 3]);
    expect(schedule.completedRuns).toBe(3);
    await schedule.stop();
  });

  it('never overlaps: a tick during a long run is skipped, not queued', async () => {
    const clock = new ManualClock();
    const { runs, run } = controllableRun();
    const schedule = scheduleReconciliation({ every: hour, clock, run });
    await clock.advance(hour);
    expect(runs).toHaveLength(1);
    expect(schedule.running).toBe(true);
    await clock.advance(2 * hour);
    expect(runs).toHaveLength(1);
    expect(schedule.skippedRuns).toBe(2);
    runs[0]!.finish(1);
    await clock.advance(0);
    expect(schedule.running).toBe(false);
    await clock.advance(hour);
    expect(runs).toHaveLength(2);
    runs[1]!.finish(2);
    await schedule.stop();
  });

  it('runNow joins the run in progress instead of starting another', async () => {
    const clock = new ManualClock();
    const { runs, run } = controllableRun();
    const schedule = scheduleReconciliation({ every: hour, clock, run });
    const first = schedule.runNow();
    const second = schedule.runNow();
    expect(runs).toHaveLength(1);
    runs[0]!.finish(42);
    expect(await first).toBe(42);
    expect(await second).toBe(42);
    await schedule.stop();
  });

  it('keeps going after a failed run, reporting the error', async () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    let n = 0;
    const schedule = scheduleReconciliation({
      every: '30m',
      clock,
      runImmediately: true,
      onError: (e) => errors.push(e),
      run: async () => {
        n++;
        if (n === 1) throw new Error('storage down');
        return n;
      },
    });
    await clock.advance(0);
    expect(errors).toHaveLength(1);
    await clock.advance(30 * 60_000);
    expect(n).toBe(2);
    expect(errors).toHaveLength(1);
    await schedule.stop();
  });

  it('stop() cancels future runs, aborts the run in progress and waits for it', async () => {
    const clock = new ManualClock();
    const { runs, run } = controllableRun();
    const schedule = scheduleReconciliation({ every: hour, clock, run, runImmediately: true });
    expect(runs).toHaveLength(1);
    await schedule.stop();
    expect(runs[0]!.signal.aborted).toBe(true);
    expect(isBallastError(runs[0]!.signal.reason, 'ABORTED')).toBe(true);
    expect(schedule.running).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10 * hour);
    expect(runs).toHaveLength(1);
    await expect(schedule.runNow()).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('rejects intervals that are not durations or shorter than a second', () => {
    for (const every of ['soon', '0.5s', -1, '']) {
      expect(() => scheduleReconciliation({ every, run: async () => 0 })).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          details: expect.objectContaining({ field: 'every' }),
        }),
      );
    }
  });
});

describe('parseDuration()', () => {
  it('reads milliseconds and unit strings', () => {
    expect(parseDuration(1500, 'f', 'w')).toBe(1500);
    expect(parseDuration('2h', 'f', 'w')).toBe(7_200_000);
    expect(parseDuration('1h30m', 'f', 'w')).toBe(5_400_000);
    expect(parseDuration('500ms', 'f', 'w')).toBe(500);
    expect(parseDuration('1.5s', 'f', 'w')).toBe(1500);
    expect(parseDuration('1d', 'f', 'w')).toBe(86_400_000);
  });
});
