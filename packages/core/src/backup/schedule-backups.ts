/**
 * Scheduled backups (seed 002 §1.1: daily at 02:00, `AUTO_BACKUP_ENABLED`). The schedule keeps
 * no state of its own: it asks the run records when the last good backup started, so a process
 * that restarts (or was down at 02:00) runs the missed backup at start-up instead of waiting a
 * day, and two processes with the same schedule never overlap, because the run store refuses a
 * second `running` run and the loser only logs a skip.
 */
import type { CancelTimer, Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { portSchema } from '../consistency/recipe-options.js';
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { BackupRun } from './backup-run.js';
import type { BackupRunner } from './backup-runner.js';

/** Configuration of {@link scheduleBackups}. */
export interface BackupScheduleConfig {
  readonly runner: Pick<BackupRunner, 'run' | 'list'>;
  /**
   * Daily time of day, `'HH:MM'` (24 h). Default `'02:00'`. Ignored when `everyMs` is set.
   */
  readonly at?: string;
  /** Interpret `at` in the process's local time zone or in UTC. Default `'local'`. */
  readonly timeZone?: 'local' | 'utc';
  /** Run every `everyMs` milliseconds instead of daily (at least 60 000). */
  readonly everyMs?: number;
  /** The `AUTO_BACKUP_ENABLED` switch: when `false` nothing is scheduled. Default `true`. */
  readonly enabled?: boolean;
  /**
   * Run at start-up when the last good backup is older than the most recent due time (a missed
   * run). Default `true`.
   */
  readonly catchUp?: boolean;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** A running backup schedule. */
export interface BackupSchedule {
  /** Whether the schedule is active (`enabled` and not stopped). */
  readonly active: boolean;
  /** When the next run is due; `undefined` when inactive or not yet computed. */
  readonly nextRunAt: Date | undefined;
  /** Resolves once the start-up check (and any catch-up run) has finished. */
  readonly ready: Promise<void>;
  /** Cancels future runs, aborts a run in progress (recorded as failed) and waits for it. */
  stop(): Promise<void>;
}

const configSchema = v.object({
  runner: portSchema<Pick<BackupRunner, 'run' | 'list'>>('a BackupRunner', 'run', 'list'),
  at: v.optional(v.string()),
  timeZone: v.optional(v.literal('local', 'utc')),
  everyMs: v.optional(v.number()),
  enabled: v.optional(v.boolean()),
  catchUp: v.optional(v.boolean()),
  clock: v.optional(v.clock()),
  logger: v.optional(v.logger()),
});

/** Parses `'HH:MM'`; throws `INVALID_OPTIONS` otherwise. */
export function parseTimeOfDay(at: string): { hours: number; minutes: number } {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at);
  if (!match) {
    throw new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for scheduleBackups(): "at" must be 'HH:MM' (24 h), got '${at}'`,
      details: { field: 'at' },
    });
  }
  return { hours: Number(match[1]), minutes: Number(match[2]) };
}

/** The latest daily slot at or before `now` (epoch ms). */
function previousDailySlot(now: number, at: string, timeZone: 'local' | 'utc'): number {
  const { hours, minutes } = parseTimeOfDay(at);
  const date = new Date(now);
  if (timeZone === 'utc') date.setUTCHours(hours, minutes, 0, 0);
  else date.setHours(hours, minutes, 0, 0);
  let slot = date.getTime();
  if (slot > now) {
    // Step back a calendar day (not 24 h, which is wrong across a DST change).
    const previous = new Date(slot);
    if (timeZone === 'utc') previous.setUTCDate(previous.getUTCDate() - 1);
    else previous.setDate(previous.getDate() - 1);
    slot = previous.getTime();
  }
  return slot;
}

function nextDailySlot(now: number, at: string, timeZone: 'local' | 'utc'): number {
  const next = new Date(previousDailySlot(now, at, timeZone));
  if (timeZone === 'utc') next.setUTCDate(next.getUTCDate() + 1);
  else next.setDate(next.getDate() + 1);
  return next.getTime();
}

/**
 * Runs backups on a schedule: daily at `at` (default 02:00) or every `everyMs`.
 *
 * @example
 * ```ts
 * const schedule = scheduleBackups({
 *   runner,
 *   at: '02:00',
 *   enabled: process.env.AUTO_BACKUP_ENABLED !== 'false',
 *   logger,
 * });
 * process.once('SIGTERM', () => schedule.stop());
 * ```
 */
export function scheduleBackups(config: BackupScheduleConfig): BackupSchedule {
  parseOptions(configSchema, config, 'scheduleBackups()');
  const clock = config.clock ?? systemClock;
  const logger = config.logger ?? noopLogger;
  const at = config.at ?? '02:00';
  const timeZone = config.timeZone ?? 'local';
  const everyMs = config.everyMs;
  if (everyMs === undefined) parseTimeOfDay(at);
  else if (!Number.isInteger(everyMs) || everyMs < 60_000 || everyMs > 2 ** 31 - 1) {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'Invalid options for scheduleBackups(): "everyMs" must be an integer from 60000 to 2147483647',
      details: { field: 'everyMs' },
    });
  }
  let active = config.enabled ?? true;
  let nextRunAt: number | undefined;
  let cancelTimer: CancelTimer | undefined;
  let current: Promise<void> | undefined;
  let controller: AbortController | undefined;

  const lastGoodStart = async (): Promise<number | undefined> => {
    const [last]: BackupRun[] = await config.runner.list({ status: 'succeeded', limit: 1 });
    return last?.startedAt.getTime();
  };

  const runOnce = (): Promise<void> => {
    current ??= (async () => {
      controller = new AbortController();
      try {
        await config.runner.run({ reason: 'scheduled', signal: controller.signal });
      } catch (error) {
        if (isBallastError(error) && error.code === 'BACKUP_IN_PROGRESS') {
          logger.warn({ err: error }, 'scheduled backup: another run is in progress; skipped');
        } else {
          // Already recorded and alerted by the runner; the schedule carries on.
          logger.error({ err: error }, 'scheduled backup: run failed');
        }
      } finally {
        current = undefined;
        controller = undefined;
      }
    })();
    return current;
  };

  const arm = (from: number) => {
    if (!active) return;
    const now = clock.now();
    const next =
      everyMs === undefined ? nextDailySlot(Math.max(now, from), at, timeZone) : from + everyMs;
    nextRunAt = Math.max(next, now);
    cancelTimer = clock.setTimer(
      () => {
        if (!active) return;
        const started = clock.now();
        void runOnce().then(() => arm(started));
      },
      Math.min(nextRunAt - now, 2 ** 31 - 1),
    );
  };

  const start = async () => {
    if (!active) {
      logger.info({}, 'scheduled backup: disabled');
      return;
    }
    const now = clock.now();
    let last: number | undefined;
    try {
      last = await lastGoodStart();
    } catch (error) {
      logger.error({ err: error }, 'scheduled backup: could not read run records');
    }
    const due =
      everyMs === undefined ? previousDailySlot(now, at, timeZone) : (last ?? -Infinity) + everyMs;
    const missed =
      (config.catchUp ?? true) &&
      (everyMs === undefined ? last === undefined || last < due : due <= now);
    if (missed && active) {
      logger.info({ lastGoodBackup: last }, 'scheduled backup: missed run; backing up now');
      await runOnce();
      arm(clock.now());
    } else {
      arm(everyMs === undefined ? now : (last ?? now));
    }
  };
  const ready = start();

  return {
    get active() {
      return active;
    },
    get nextRunAt() {
      return active && nextRunAt !== undefined ? new Date(nextRunAt) : undefined;
    },
    ready,
    async stop() {
      active = false;
      cancelTimer?.();
      controller?.abort(new BallastError('ABORTED', { message: 'Backup schedule stopped.' }));
      await ready.catch(() => {});
      await current;
    },
  };
}
