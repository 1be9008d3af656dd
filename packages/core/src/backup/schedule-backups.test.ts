import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import type { BackupRun } from './backup-run.js';
import { scheduleBackups } from './schedule-backups.js';

/** A runner double that records run start times and takes `durationMs` on the clock. */
function fakeRunner(clock: ManualClock, lastGood?: number, durationMs = 0) {
  const starts: number[] = [];
  let running = false;
  let last = lastGood;
  return {
    starts,
    async run(_options?: { signal?: AbortSignal }) {
      if (running) throw Object.assign(new Error('busy'), { code: 'BACKUP_IN_PROGRESS' });
      running = true;
      starts.push(clock.now());
      if (durationMs > 0) await clock.sleep(durationMs);
      last = starts.at(-1);
      running = false;
      return {} as BackupRun;
    },
    async list() {
      return last === undefined ? [] : [{ startedAt: new Date(last) } as BackupRun];
    },
  };
}

const dec4 = (h: number, m = 0) => Date.UTC(2026, 11, 4, h, m);

describe('scheduleBackups', () => {
  it('runs daily at 02:00 by default', async () => {
    const clock = new ManualClock(dec4(1, 30));
    const runner = fakeRunner(clock, dec4(-22)); // yesterday 02:00: nothing missed
    const schedule = scheduleBackups({ runner, clock, timeZone: 'utc' });
    await schedule.ready;
    expect(runner.starts).toEqual([]);
    expect(schedule.nextRunAt?.toISOString()).toBe('2026-12-04T02:00:00.000Z');
    await clock.advance(30 * 60_000);
    expect(runner.starts).toEqual([dec4(2)]);
    await clock.advance(24 * 3_600_000);
    expect(runner.starts).toEqual([dec4(2), dec4(26)]);
    await schedule.stop();
  });

  it('after a restart, runs the backup it missed at once, then keeps the daily time', async () => {
    const clock = new ManualClock(dec4(9));
    const runner = fakeRunner(clock, dec4(-22)); // last good: yesterday 02:00; today's 02:00 missed
    const schedule = scheduleBackups({ runner, clock, timeZone: 'utc', at: '02:00' });
    await schedule.ready;
    expect(runner.starts).toEqual([dec4(9)]);
    expect(schedule.nextRunAt?.toISOString()).toBe('2026-12-05T02:00:00.000Z');
    await schedule.stop();
  });

  it('with an interval, counts from the last good backup across restarts', async () => {
    const clock = new ManualClock(dec4(9));
    const runner = fakeRunner(clock, dec4(8));
    const schedule = scheduleBackups({ runner, clock, everyMs: 6 * 3_600_000 });
    await schedule.ready;
    expect(schedule.nextRunAt?.toISOString()).toBe('2026-12-04T14:00:00.000Z');
    await clock.advance(5 * 3_600_000);
    expect(runner.starts).toEqual([dec4(14)]);
    await schedule.stop();
  });

  it('never overlaps: a run longer than the interval delays the next one', async () => {
    const clock = new ManualClock(dec4(9));
    const runner = fakeRunner(clock, dec4(9), 90_000);
    const schedule = scheduleBackups({ runner, clock, everyMs: 60_000 });
    await schedule.ready;
    await clock.advance(10 * 60_000);
    const gaps = runner.starts.slice(1).map((start, i) => start - runner.starts[i]!);
    expect(runner.starts.length).toBeGreaterThan(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(90_000);
    const stopped = schedule.stop();
    await clock.advance(90_000); // this double ignores the abort and finishes its run
    await stopped;
    const count = runner.starts.length;
    await clock.advance(3_600_000);
    expect(runner.starts.length).toBe(count);
  });

  it('does nothing when disabled (AUTO_BACKUP_ENABLED=false)', async () => {
    const clock = new ManualClock(dec4(9));
    const runner = fakeRunner(clock);
    const schedule = scheduleBackups({ runner, clock, enabled: false });
    await schedule.ready;
    await clock.advance(3 * 86_400_000);
    expect(runner.starts).toEqual([]);
    expect(schedule.active).toBe(false);
  });

  it('rejects a malformed time of day or interval with INVALID_OPTIONS', () => {
    const clock = new ManualClock(0);
    const runner = fakeRunner(clock);
    expect(() => scheduleBackups({ runner, clock, at: '2am' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => scheduleBackups({ runner, clock, everyMs: 5 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});
