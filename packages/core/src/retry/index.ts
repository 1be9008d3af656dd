export type { RetryAttempt, RetryableFunction } from './attempt.js';
export {
  type JitterMode,
  type RetryPresetName,
  retryPresets,
} from './backoff-schedule.js';
export {
  type ClassifyContext,
  classifyError,
  composeClassifiers,
  type ErrorClassifier,
  type RetryVerdict,
} from './classify-error.js';
export { isRetrySafeRequest, type RetryRequest } from './idempotency-guard.js';
export { type RetryPolicy, retry, retryPolicy } from './retry.js';
export { parseRetryAfter } from './retry-after.js';
export {
  createRetryBudget,
  type RetryBudget,
  type RetryBudgetOptions,
  type RetryBudgetStats,
} from './retry-budget.js';
export type {
  ExponentialBackoff,
  GiveUpEvent,
  GiveUpReason,
  RetryCallOptions,
  RetryEvent,
  RetryEvents,
  RetryOptions,
} from './retry-options.js';
