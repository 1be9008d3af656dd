/**
 * Health reports (seed 002 §4.2, seed 004): is each dependency reachable, how fast, and as of
 * when. Every check races its own timeout, so a hung database (a socket that accepts and never
 * answers) reports `down` after `timeoutMs` instead of hanging the endpoint and every client
 * that polls it. A check's error is logged, never shown: the report carries only a status code.
 */
import { type Clock, type Logger, noopLogger, systemClock } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import { clockSchema, functionSchema, loggerSchema } from '../options/index.js';

/** Probes one dependency. Resolves when it is reachable; rejects (or times out) when not. */
export type HealthProbe = (signal: AbortSignal) => Promise<unknown> | unknown;

/** One named check. */
export interface HealthCheck {
  readonly check: HealthProbe;
  /** Give up after this long and report `down`. Default: the report's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** Whether its failure makes the whole report `down` (503). Default `true`. */
  readonly required?: boolean;
}

/** Options for {@link checkHealth} and `health()`. */
export interface HealthOptions {
  /** Checks by name (`db`, `storage`, `redis`): a probe function, or a {@link HealthCheck}. */
  readonly checks: Readonly<Record<string, HealthProbe | HealthCheck>>;
  /** Default per-check timeout in ms. Default 2 000. */
  readonly timeoutMs?: number;
  /** Source of time for timeouts, latency and the timestamp. Default `systemClock`. */
  readonly clock?: Clock;
  /** Receives each failed check (`warn`, with the error). Default: none. */
  readonly logger?: Logger;
}

/** One check's result. */
export interface HealthCheckResult {
  readonly status: 'up' | 'down';
  readonly required: boolean;
  /** Time the check took (up to its timeout), in ms. */
  readonly latencyMs: number;
  /** Why it is down: `'TIMEOUT'` or `'UNAVAILABLE'`. Absent when up. */
  readonly error?: 'TIMEOUT' | 'UNAVAILABLE';
}

/** The whole report. */
export interface HealthReport {
  /** `down` when a required check failed, `degraded` when only optional ones did. */
  readonly status: 'up' | 'degraded' | 'down';
  /** ISO-8601 instant the report was made. */
  readonly timestamp: string;
  readonly checks: Readonly<Record<string, HealthCheckResult>>;
}

const probeSchema = functionSchema<HealthProbe>('a health probe (signal) => Promise');
const timeoutSchema = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);

export const healthOptionsSchema = z.strictObject({
  checks: z.record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'check names are 1–64 of A-Z a-z 0-9 _ . -'),
    z.union([
      probeSchema,
      z.strictObject({
        check: probeSchema,
        timeoutMs: timeoutSchema.optional(),
        required: z.boolean().default(true),
      }),
    ]),
  ),
  timeoutMs: timeoutSchema.default(2_000),
  clock: clockSchema.default(systemClock),
  logger: loggerSchema.default(noopLogger),
});

export type ParsedHealthOptions = z.output<typeof healthOptionsSchema>;

const timedOut = Symbol('timed out');

async function runCheck(
  name: string,
  entry: ParsedHealthOptions['checks'][string],
  options: ParsedHealthOptions,
): Promise<HealthCheckResult> {
  const { clock, logger } = options;
  const check = typeof entry === 'function' ? entry : entry.check;
  const required = typeof entry === 'function' ? true : entry.required;
  const timeoutMs =
    (typeof entry === 'function' ? undefined : entry.timeoutMs) ?? options.timeoutMs;
  const controller = new AbortController();
  const started = clock.now();
  let cancelTimer = () => {};
  const timeout = new Promise<typeof timedOut>((resolve) => {
    cancelTimer = clock.setTimer(() => resolve(timedOut), timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      Promise.resolve().then(() => check(controller.signal)),
      timeout,
    ]);
    const latencyMs = Math.max(0, clock.now() - started);
    if (outcome === timedOut) {
      // Tell the probe to stop; whatever it still holds (a half-open socket) is its to release.
      controller.abort();
      logger.warn({ check: name, timeoutMs }, `health check "${name}" timed out`);
      return { status: 'down', required, latencyMs, error: 'TIMEOUT' };
    }
    return { status: 'up', required, latencyMs };
  } catch (error) {
    logger.warn({ check: name, err: error }, `health check "${name}" failed`);
    return {
      status: 'down',
      required,
      latencyMs: Math.max(0, clock.now() - started),
      error: 'UNAVAILABLE',
    };
  } finally {
    cancelTimer();
  }
}

/** Runs every check at once, each within its timeout, and summarises them. */
export async function runHealthChecks(options: ParsedHealthOptions): Promise<HealthReport> {
  const names = Object.keys(options.checks);
  const results = await Promise.all(
    names.map((name) =>
      runCheck(name, options.checks[name] as ParsedHealthOptions['checks'][string], options),
    ),
  );
  const checks: Record<string, HealthCheckResult> = {};
  names.forEach((name, index) => {
    checks[name] = results[index] as HealthCheckResult;
  });
  const failed = results.filter((result) => result.status === 'down');
  const status = failed.some((result) => result.required)
    ? 'down'
    : failed.length > 0
      ? 'degraded'
      : 'up';
  return { status, timestamp: new Date(options.clock.now()).toISOString(), checks };
}

/**
 * Runs the checks and returns the report (for a custom endpoint or a metrics exporter).
 *
 * @example
 * ```ts
 * const report = await checkHealth({ checks: { db: postgresHealthCheck(db) }, timeoutMs: 1_000 });
 * if (report.status === 'down') alert(report);
 * ```
 */
export function checkHealth(options: HealthOptions): Promise<HealthReport> {
  return runHealthChecks(parseOptions(healthOptionsSchema, options, 'checkHealth()'));
}
