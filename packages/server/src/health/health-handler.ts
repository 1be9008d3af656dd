/**
 * `/health` and `/health/live` as web-standard handlers. The full report answers 503 when a
 * required dependency is down, so a load balancer takes the instance out; the live variant checks
 * nothing, so clients can ping it as often as they like (seed 002 §4.2, connectivity checks).
 */
import { invalidArgument, parseOptions } from '@ballast/core/adapter-kit';
import { isObject } from '../options/is-object.js';
import {
  type HealthOptions,
  type HealthReport,
  healthOptionsSchema,
  runHealthChecks,
} from './health-check.js';

const noStore = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

// A report whose status is none of these (a typo, another tool's 'ok') would otherwise be
// answered 200 as if healthy.
const reportStatuses: ReadonlySet<unknown> = new Set(['up', 'degraded', 'down']);

/** The HTTP status of a report: 503 when it is `down`, else 200. */
export function healthStatus(report: HealthReport): 200 | 503 {
  if (!isObject(report) || !reportStatuses.has(report.status)) {
    throw invalidArgument(
      'healthStatus()',
      'report',
      "a HealthReport (status 'up', 'degraded' or 'down')",
    );
  }
  return report.status === 'down' ? 503 : 200;
}

/**
 * A fetch handler answering the {@link HealthReport} as JSON: 200 when up or degraded, 503 when
 * a required check is down. `Cache-Control: no-store`. Requests that arrive while the checks run
 * share that run's report, so a flood of `/health` requests probes each dependency once at a
 * time, not once per request (a hung database would otherwise collect a probe per request).
 *
 * @example
 * ```ts
 * const healthHandler = health({
 *   checks: { db: postgresHealthCheck(db), storage: { check: storageHealthCheck(storage), required: false } },
 *   timeoutMs: 1_000,
 * });
 * // Deno.serve((request) => new URL(request.url).pathname === '/health' ? healthHandler(request) : app(request));
 * ```
 */
export function health(options: HealthOptions): (request?: Request) => Promise<Response> {
  const parsed = parseOptions(healthOptionsSchema, options, 'health()');
  let running: Promise<HealthReport> | undefined;
  const sharedRun = () => {
    running ??= runHealthChecks(parsed).finally(() => {
      running = undefined;
    });
    return running;
  };
  return async () => {
    const report = await sharedRun();
    return new Response(JSON.stringify(report), { status: healthStatus(report), headers: noStore });
  };
}

const maxDateMs = 8.64e15;

/** The liveness answer: `{ status: 'up', timestamp }`, no dependency touched. */
export function liveReport(now: number = Date.now()): { status: 'up'; timestamp: string } {
  // Past ±8.64e15 ms a Date is invalid and toISOString() throws a RangeError.
  if (!Number.isFinite(now) || Math.abs(now) > maxDateMs) {
    throw invalidArgument('liveReport()', 'now', 'a time in milliseconds');
  }
  return { status: 'up', timestamp: new Date(now).toISOString() };
}

/**
 * A fetch handler that checks nothing and answers 200 `{ status: 'up', timestamp }`: the cheap
 * ping for clients deciding whether they are online.
 */
export function live(): (request?: Request) => Promise<Response> {
  return async () => new Response(JSON.stringify(liveReport()), { status: 200, headers: noStore });
}
