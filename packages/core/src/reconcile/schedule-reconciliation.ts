/**
 * Periodic reconciliation (seed 001 §3 "every 2 hours") that never overlaps itself. Ticks come
 * at a fixed rate from the first; a tick that falls while a run is still going is skipped,
 * counted and logged, never queued, because a queued run would only start late and check what
 * the current run is already checking. `stop()` cancels the timer, aborts the run in progress
 * through its signal and waits for it, so a shutdown hook leaves nothing running.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { portSchema } from '../consistency/recipe-options.js';
import { BallastError } from '../errors/ballast-error.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { parseDuration } from './duration.js';

/** Options for {@link scheduleReconciliation}. */
export interface ScheduleReconciliationOptions<Result> {
  /** Interval between run starts: milliseconds or `'2h'`, `'30m'`, `'1h30m'`, `'90s'`. At least 1 s. */
  readonly every: string | number;
  /** One run, e.g. `(signal) => reconcile({ storage, records, signal, logger })`. */
  readonly run: (signal: AbortSignal) => Promise<Result>;
  /** Start the first run at once instead of after `every`. Default `false`. */
  readonly runImmediately?: boolean;
  /** Clock for the timer. Default `systemClock`. */
  readonly clock?: Clock;
  /** Receives start, finish, skip and failure lines. Default: none. */
  readonly logger?: Logger;
  /** Called with each run's result. */
  readonly onResult?: (result: Result) => void;
  /** Called with each run's error (also logged). A failed run does not stop the schedule. */
  readonly onError?: (error: unknown) => void;
}

/** A running schedule. */
export interface ReconciliationSchedule<Result> {
  /**
   * Runs now, unless a run is in progress, in which case it resolves with that run's result
   * (never two at once). Rejects with the run's error, or `ABORTED` after `stop()`.
   */
  runNow(): Promise<Result>;
  /** Cancels future runs, aborts the one in progress and waits for it to settle. */
  stop(): Promise<void>;
  /** Whether a run is in progress. */
  readonly running: boolean;
  /** Runs finished (successfully or not). */
  readonly completedRuns: number;
  /** Ticks skipped because the previous run was still going. */
  readonly skippedRuns: number;
}

const schema = v.object({
  every: v.union(v.string(), v.number()),
  run: v.func(),
  runImmediately: v.optional(v.boolean(), false),
  clock: v.optional(portSchema<Clock>('a Clock', 'now', 'setTimer')),
  logger: v.optional(portSchema<Logger>('a Logger', 'debug', 'info', 'warn', 'error')),
  onResult: v.optional(v.func()),
  onError: v.optional(v.func()),
});

/**
 * Runs `run` every `every`, never two at once.
 *
 * @example
 * ```ts
 * const schedule = scheduleReconciliation({
 *   every: '2h',
 *   run: (signal) => reconcile({ storage, records, signal, logger }),
 *   onResult: (report) => metrics.gauge('reconcile.failed', report.failed),
 *   logger,
 * });
 * process.once('SIGTERM', () => schedule.stop());
 * ```
 */
export function scheduleReconciliation<Result>(
  options: ScheduleReconciliationOptions<Result>,
): ReconciliationSchedule<Result> {
  const parsed = parseOptions(schema, options, 'scheduleReconciliation()');
  const every = parseDuration(parsed.every, 'every', 'scheduleReconciliation()');
  if (every < 1000) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'Invalid options for scheduleReconciliation(): "every" must be at least 1 second',
      details: { field: 'every' },
    });
  }
  const clock = parsed.clock ?? systemClock;
  const logger = parsed.logger ?? noopLogger;
  let current: Promise<Result> | undefined;
  let controller: AbortController | undefined;
  let cancelTimer: (() => void) | undefined;
  let stopped = false;
  let completedRuns = 0;
  let skippedRuns = 0;

  const start = (): Promise<Result> => {
    if (current) return current;
    if (stopped) {
      return Promise.reject(
        new BallastError('ABORTED', { message: 'Reconciliation schedule stopped.' }),
      );
    }
    controller = new AbortController();
    const signal = controller.signal;
    logger.info({ schedule: 'reconcile' }, 'scheduled reconciliation: run started');
    const running = (async () => {
      try {
        const result = await options.run(signal);
        logger.info({ schedule: 'reconcile' }, 'scheduled reconciliation: run finished');
        try {
          options.onResult?.(result);
        } catch (error) {
          logger.warn(
            { schedule: 'reconcile', err: error },
            'scheduled reconciliation: onResult threw; ignored',
          );
        }
        return result;
      } catch (error) {
        logger.error({ schedule: 'reconcile', err: error }, 'scheduled reconciliation: run failed');
        try {
          options.onError?.(error);
        } catch (hookError) {
          logger.warn(
            { schedule: 'reconcile', err: hookError },
            'scheduled reconciliation: onError threw; ignored',
          );
        }
        throw error;
      } finally {
        completedRuns++;
        current = undefined;
        controller = undefined;
      }
    })();
    current = running;
    return running;
  };

  const tick = () => {
    if (stopped) return;
    cancelTimer = clock.setTimer(tick, every);
    if (current) {
      skippedRuns++;
      logger.warn(
        { schedule: 'reconcile', skippedRuns },
        'scheduled reconciliation: previous run still going; this tick skipped',
      );
      return;
    }
    // Errors were logged and passed to onError; the schedule carries on.
    start().catch(() => {});
  };

  if (parsed.runImmediately) tick();
  else cancelTimer = clock.setTimer(tick, every);

  return {
    runNow: start,
    async stop() {
      stopped = true;
      cancelTimer?.();
      const running = current;
      controller?.abort(
        new BallastError('ABORTED', { message: 'Reconciliation schedule stopped.' }),
      );
      if (running) await running.catch(() => {});
    },
    get running() {
      return current !== undefined;
    },
    get completedRuns() {
      return completedRuns;
    },
    get skippedRuns() {
      return skippedRuns;
    },
  };
}
