/**
 * Options compiled into a plan: schedule, classifier, limits and hooks resolved once, so the
 * hot path reads plain fields and checks nothing. A preset name is compiled once per process;
 * an options object on every call, through the quick parser.
 */
import type { Clock } from '../clock/clock.js';
import {
  type BackoffSchedule,
  exponentialSchedule,
  listSchedule,
  type RetryPresetName,
  retryPresets,
} from './backoff-schedule.js';
import { classifyError, composeClassifiers, type ErrorClassifier } from './classify-error.js';
import { isRetrySafeRequest } from './idempotency-guard.js';
import { quickCallOptions, quickRetryOptions } from './quick-retry-options.js';
import type { RetryBudget } from './retry-budget.js';
import {
  type GiveUpEvent,
  type ParsedRetryOptions,
  type RetryCallOptions,
  type RetryEvent,
  type RetryOptions,
  strictCallOptions,
  strictRetryOptions,
} from './retry-options.js';

/** Everything the hot path needs, validated and with defaults applied. */
export interface RetryPlan {
  readonly retries: number;
  readonly schedule: BackoffSchedule;
  readonly maxDelay: number;
  readonly clock: Clock;
  /** Per-attempt limit; `Infinity` for none. */
  readonly timeout: number;
  readonly deadlines: ReadonlyArray<number | Date>;
  readonly signal: AbortSignal | undefined;
  /** False for a non-idempotent request without an idempotency key. */
  readonly retrySafe: boolean;
  readonly classify: ErrorClassifier;
  readonly budget: RetryBudget | undefined;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
  readonly onGiveUp: ((event: GiveUpEvent) => void) | undefined;
  /** Whether attempts need a timer or an abort listener (timeout, deadline or signal). */
  readonly guarded: boolean;
}

/** The plan for a preset name, shared by every call that names it. */
const presetPlans = new Map<string, RetryPlan>();

/** Validates `options` (a preset name or an options object) and compiles them into a plan. */
export function compileRetryOptions(
  options: RetryOptions | RetryPresetName | undefined,
  where: string,
): RetryPlan {
  if (typeof options === 'object' && options !== null) {
    return buildPlan(quickRetryOptions(options) ?? strictRetryOptions(options, where));
  }
  const name = options ?? 'mutation';
  let plan = presetPlans.get(name);
  if (plan === undefined) {
    plan = buildPlan(strictRetryOptions({ preset: name }, where));
    presetPlans.set(name, plan);
  }
  return plan;
}

const presetSchedules = new Map<string, (index: number) => number>();

function buildPlan(parsed: ParsedRetryOptions): RetryPlan {
  const { maxDelay } = parsed;
  let nominal: (index: number) => number;
  let defaultRetries: number;
  if (parsed.backoff) {
    nominal = exponentialSchedule(parsed.backoff.initialDelay, parsed.backoff.factor, maxDelay);
    defaultRetries = 3;
  } else if (parsed.delays) {
    nominal = listSchedule(parsed.delays, maxDelay);
    defaultRetries = parsed.delays.length;
  } else {
    const preset = parsed.preset ?? 'mutation';
    const key = `${preset}:${maxDelay}`;
    let shared = presetSchedules.get(key);
    if (shared === undefined) {
      shared = listSchedule(retryPresets[preset], maxDelay);
      // Bounded: two presets times the handful of maxDelay values an application uses.
      if (presetSchedules.size < 64) presetSchedules.set(key, shared);
    }
    nominal = shared;
    defaultRetries = retryPresets[preset].length;
  }
  const timeout = parsed.timeout ?? Number.POSITIVE_INFINITY;
  const deadlines = parsed.deadline === undefined ? [] : [parsed.deadline];
  return {
    retries: parsed.retries ?? defaultRetries,
    schedule: { nominal, jitter: parsed.jitter, random: parsed.random ?? Math.random },
    maxDelay,
    clock: parsed.clock,
    timeout,
    deadlines,
    signal: parsed.signal,
    retrySafe: parsed.request === undefined || isRetrySafeRequest(parsed.request),
    classify: parsed.classify ? composeClassifiers(parsed.classify, classifyError) : classifyError,
    budget: parsed.budget,
    onRetry: parsed.onRetry,
    onGiveUp: parsed.onGiveUp,
    guarded: Number.isFinite(timeout) || deadlines.length > 0 || parsed.signal !== undefined,
  };
}

/** A plan with one call's options layered on: signals combine, the earlier deadline wins. */
export function withCallOptions(plan: RetryPlan, call: RetryCallOptions, where: string): RetryPlan {
  const parsed = quickCallOptions(call) ?? strictCallOptions(call, where);
  const signal =
    parsed.signal && plan.signal
      ? AbortSignal.any([plan.signal, parsed.signal])
      : (parsed.signal ?? plan.signal);
  const deadlines =
    parsed.deadline === undefined ? plan.deadlines : [...plan.deadlines, parsed.deadline];
  return {
    ...plan,
    signal,
    deadlines,
    retrySafe: parsed.request === undefined ? plan.retrySafe : isRetrySafeRequest(parsed.request),
    guarded: plan.guarded || signal !== undefined || deadlines.length > 0,
  };
}
