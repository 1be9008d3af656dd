/**
 * The quick option parser. The schema in retry-options.ts is the authority on what is valid and
 * how it is reported, but a schema parse of `retry()`'s options (sixteen fields) is a large
 * share of a successful call when the options object is written inline
 * (`retry(fn, { preset: 'read', signal })`). So each call first tries this hand-written check,
 * which accepts only input the schema accepts and returns what the schema would return; anything
 * it is unsure of goes to the schema, which either accepts it too or throws `INVALID_OPTIONS`
 * naming the field. A property test
 * (quick-retry-options.test.ts) holds the two to the same answers.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { isAbortSignalLike, isClockLike } from '../options/shape-checks.js';
import { type JitterMode, type RetryPresetName, retryPresets } from './backoff-schedule.js';
import type { ErrorClassifier } from './classify-error.js';
import type { RetryRequest } from './idempotency-guard.js';
import type { RetryBudget } from './retry-budget.js';
import {
  type GiveUpEvent,
  isBudget,
  isDeadlineMs,
  type ParsedCallOptions,
  type ParsedRetryOptions,
  type RetryEvent,
} from './retry-options.js';

const optionKeys = new Set<string>([
  'preset',
  'delays',
  'backoff',
  'retries',
  'maxDelay',
  'jitter',
  'random',
  'clock',
  'timeout',
  'classify',
  'budget',
  'onRetry',
  'onGiveUp',
  'signal',
  'deadline',
  'request',
]);
const callKeys = new Set<string>(['signal', 'deadline', 'request']);
const backoffKeys = new Set<string>(['initialDelay', 'factor']);
const jitterModes = new Set<unknown>(['equal', 'full', 'none']);

/** Marks input the quick parser leaves to the schema. */
const unsure = Symbol('unsure');
type Quick<T> = T | typeof unsure;

function onlyKeys(value: object, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
/** An object `v.object` accepts: not an array. */
const isRecord = (value: unknown): value is Record<string, unknown> =>
  isObject(value) && !Array.isArray(value);
const isDelay = (value: unknown): value is number =>
  typeof value === 'number' && value >= 0 && value <= 2_147_483_647;
const isPositive = (value: unknown): value is number =>
  typeof value === 'number' && value > 0 && Number.isFinite(value);
const isFunction = (value: unknown) => typeof value === 'function';

function quickOptional<T>(
  value: unknown,
  check: (value: unknown) => boolean,
): Quick<T | undefined> {
  if (value === undefined) return undefined;
  return check(value) ? (value as T) : unsure;
}

function quickDeadline(value: unknown): Quick<number | Date | undefined> {
  if (value === undefined || isDeadlineMs(value)) return value;
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : unsure;
}

function quickRequest(value: unknown): Quick<RetryRequest | undefined> {
  if (value === undefined) return undefined;
  if (!isRecord(value)) return unsure;
  const { method, idempotencyKey, headers } = value;
  if (typeof method !== 'string' || method === '') return unsure;
  if (idempotencyKey !== undefined && typeof idempotencyKey !== 'string') return unsure;
  if (headers !== undefined && !isObject(headers)) return unsure;
  const request: { method: string; idempotencyKey?: string; headers?: RetryRequest['headers'] } = {
    method,
  };
  if (idempotencyKey !== undefined) request.idempotencyKey = idempotencyKey;
  if (headers !== undefined) request.headers = headers as RetryRequest['headers'];
  return request;
}

/** What the schema would return for call options, or `undefined` when the schema must decide. */
export function quickCallOptions(input: unknown): ParsedCallOptions | undefined {
  if (!isRecord(input) || !onlyKeys(input, callKeys)) return undefined;
  const signal = quickOptional<AbortSignal>(input.signal, isAbortSignalLike);
  const deadline = quickDeadline(input.deadline);
  const request = quickRequest(input.request);
  if (signal === unsure || deadline === unsure || request === unsure) return undefined;
  return { signal, deadline, request };
}

function quickBackoff(value: unknown): Quick<ParsedRetryOptions['backoff']> {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !onlyKeys(value, backoffKeys)) return unsure;
  const { initialDelay = 500, factor = 2 } = value;
  if (!isDelay(initialDelay)) return unsure;
  if (typeof factor !== 'number' || !(factor >= 1 && factor <= 100)) return unsure;
  return { initialDelay, factor };
}

function quickDelays(value: unknown): Quick<number[] | undefined> {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) return unsure;
  // An index loop, not `every`, which would skip the holes of a sparse array.
  for (let i = 0; i < value.length; i++) if (!isDelay(value[i])) return unsure;
  return [...value];
}

/** What the schema would return for `input`, or `undefined` when the schema must decide. */
export function quickRetryOptions(input: unknown): ParsedRetryOptions | undefined {
  if (!isRecord(input) || !onlyKeys(input, optionKeys)) return undefined;
  const call = quickCallOptions({
    signal: input.signal,
    deadline: input.deadline,
    request: input.request,
  });
  if (call === undefined) return undefined;
  const { preset, retries, maxDelay = 30_000, jitter = 'equal', clock = systemClock } = input;
  if (
    preset !== undefined &&
    !(typeof preset === 'string' && Object.hasOwn(retryPresets, preset))
  ) {
    return undefined;
  }
  const delays = quickDelays(input.delays);
  const backoff = quickBackoff(input.backoff);
  if (delays === unsure || backoff === unsure) return undefined;
  if ([preset, delays, backoff].filter((choice) => choice !== undefined).length > 1)
    return undefined;
  if (
    retries !== undefined &&
    !(Number.isSafeInteger(retries) && (retries as number) >= 0 && (retries as number) <= 1_000)
  ) {
    return undefined;
  }
  if (!isDelay(maxDelay) || !jitterModes.has(jitter)) return undefined;
  if (!isClockLike(clock)) return undefined;
  const timeout = quickOptional<number>(input.timeout, isPositive);
  const random = quickOptional<() => number>(input.random, isFunction);
  const classify = quickOptional<ErrorClassifier>(input.classify, isFunction);
  const onRetry = quickOptional<(event: RetryEvent) => void>(input.onRetry, isFunction);
  const onGiveUp = quickOptional<(event: GiveUpEvent) => void>(input.onGiveUp, isFunction);
  const budget = quickOptional<RetryBudget>(input.budget, isBudget);
  if ([timeout, random, classify, onRetry, onGiveUp, budget].includes(unsure)) return undefined;
  // Listed field by field: a spread followed by more properties takes a slow path in V8.
  return {
    signal: call.signal,
    deadline: call.deadline,
    request: call.request,
    preset: preset as RetryPresetName | undefined,
    delays,
    backoff,
    retries: retries as number | undefined,
    maxDelay,
    jitter: jitter as JitterMode,
    random: random as (() => number) | undefined,
    clock: clock as Clock,
    timeout: timeout as number | undefined,
    classify: classify as ErrorClassifier | undefined,
    budget: budget as RetryBudget | undefined,
    onRetry: onRetry as ((event: RetryEvent) => void) | undefined,
    onGiveUp: onGiveUp as ((event: GiveUpEvent) => void) | undefined,
  };
}
