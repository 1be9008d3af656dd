/**
 * Options compiled into a plan: schedule, classifier, limits and hooks resolved once, so the
 * hot path reads plain fields and checks nothing. What may change from call to call (signal,
 * deadline, request) is kept apart, in a {@link CallScope}, so a plan is shared between calls:
 * a preset name is compiled once per process, a `retryPolicy()` once, and an inline options
 * object once per distinct set of values (see plan-cache.ts).
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { optionsError } from '../options/parse-options.js';
import {
  type BackoffSchedule,
  exponentialSchedule,
  listSchedule,
  type RetryPresetName,
  retryPresets,
} from './backoff-schedule.js';
import { classifyError, type ErrorClassifier } from './classify-error.js';
import { isRetrySafe } from './idempotency-guard.js';
import { cachedPlan, rememberPlan } from './plan-cache.js';
import type { RetryBudget } from './retry-budget.js';
import type { GiveUpEvent, RetryCallOptions, RetryEvent, RetryOptions } from './retry-options.js';
import {
  callOptionsIssues,
  type Issue,
  retryOptionsIssues,
  validCallValues,
} from './retry-options-schema.js';

/**
 * Everything the hot path needs that does not change from call to call: the backoff schedule,
 * and the limits and hooks around it.
 */
export interface RetryPlan extends BackoffSchedule {
  readonly retries: number;
  readonly maxDelay: number;
  readonly clock: Clock;
  /** Per-attempt limit; `Infinity` for none. */
  readonly timeout: number;
  readonly classify: ErrorClassifier;
  readonly budget: RetryBudget | undefined;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
  readonly onGiveUp: ((event: GiveUpEvent) => void) | undefined;
}

/** One call's signal, deadlines and whether its request may be repeated. */
export interface CallScope {
  readonly signal: AbortSignal | undefined;
  readonly deadlines: ReadonlyArray<number | Date>;
  /** False for a non-idempotent request without an idempotency key. */
  readonly retrySafe: boolean;
}

const noDeadlines: ReadonlyArray<number | Date> = [];

/** The scope of a call that gives no signal, deadline or request. */
export const openScope: CallScope = {
  signal: undefined,
  deadlines: noDeadlines,
  retrySafe: true,
};

/** A plan and the scope of the call it was compiled for. */
export interface CompiledCall {
  readonly plan: RetryPlan;
  readonly scope: CallScope;
}

/** The plan for a preset name, shared by every call that names it. */
const presetPlans: Record<string, RetryPlan> = Object.create(null);

/**
 * Validates `options` (a preset name or an options object) and compiles them. An options object
 * whose values (signal, deadline and request aside) match one validated before reuses that
 * plan, and only its signal, deadline and request are checked: the same checks the schema makes.
 */
export function compileRetryCall(
  options: RetryOptions | RetryPresetName | undefined,
  where: string,
): CompiledCall {
  if (typeof options !== 'object' || options === null) {
    return { plan: presetPlan(options, where), scope: openScope };
  }
  const input = options as Record<string, unknown>;
  // An array has no option keys either, but the schema refuses it: never let it match `{}`.
  const cached = Array.isArray(input) ? undefined : cachedPlan(input);
  const valid =
    cached !== undefined && validCallValues(input)
      ? options
      : checked(options, retryOptionsIssues, where);
  const plan = cached ?? buildPlan(valid);
  if (cached === undefined) rememberPlan(input, plan);
  const { signal, deadline, request } = valid;
  if (signal === undefined && deadline === undefined && request === undefined) {
    return { plan, scope: openScope };
  }
  return {
    plan,
    scope: {
      signal,
      deadlines: deadline === undefined ? noDeadlines : [deadline],
      retrySafe: request === undefined || isRetrySafe(request),
    },
  };
}

/** `options`, once `issuesOf` finds no problem with them; else `INVALID_OPTIONS` naming `where`. */
function checked<Options>(
  options: Options,
  issuesOf: (input: unknown) => Issue[] | undefined,
  where: string,
): Options {
  const issues = issuesOf(options);
  if (issues) throw optionsError(where, issues);
  return options;
}

function presetPlan(name: RetryPresetName | undefined, where: string): RetryPlan {
  const key = name ?? 'mutation';
  presetPlans[key] ??= buildPlan(checked({ preset: key }, retryOptionsIssues, where));
  return presetPlans[key];
}

function buildPlan(options: RetryOptions): RetryPlan {
  const { backoff, on } = options;
  // The delays given, or the preset's (`'mutation'` by default); unused with a backoff. Schedules
  // are not shared between plans: a plan is built once per preset, policy or options shape.
  const delays = options.delaysMs ?? options.delays ?? retryPresets[options.preset ?? 'mutation'];
  const maxDelay = options.maxDelayMs ?? options.maxDelay ?? 30_000;
  const nominal = backoff
    ? exponentialSchedule(
        backoff.initialDelayMs ?? backoff.initialDelay ?? 500,
        backoff.factor ?? 2,
        maxDelay,
      )
    : listSchedule(delays, maxDelay);
  const { classify } = options;
  return {
    retries: options.retries ?? (backoff ? 3 : delays.length),
    nominal,
    jitter: options.jitter ?? 'equal',
    random: options.random ?? Math.random,
    maxDelay,
    clock: options.clock ?? systemClock,
    timeout: options.timeoutMs ?? options.timeout ?? Infinity,
    classify: classify
      ? (error, context) => classify(error, context) ?? classifyError(error, context)
      : classifyError,
    budget: options.budget,
    onRetry: on?.retry ?? options.onRetry,
    onGiveUp: on?.giveUp ?? options.onGiveUp,
  };
}

/** A policy's own scope with one call's options layered on: signals combine, the earlier deadline wins. */
export function withCallOptions(
  scope: CallScope,
  call: RetryCallOptions,
  where: string,
): CallScope {
  const parsed = checked(call, callOptionsIssues, where);
  const signal =
    parsed.signal && scope.signal
      ? AbortSignal.any([scope.signal, parsed.signal])
      : (parsed.signal ?? scope.signal);
  return {
    signal,
    deadlines:
      parsed.deadline === undefined ? scope.deadlines : [...scope.deadlines, parsed.deadline],
    retrySafe: parsed.request === undefined ? scope.retrySafe : isRetrySafe(parsed.request),
  };
}
