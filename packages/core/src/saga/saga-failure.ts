/**
 * What a failed saga tells its caller. The rule (seed 001): the error that broke the saga is the
 * one the caller sees, with its own type and code, so `catch` blocks written for the business
 * error keep working. What happened while undoing is attached to that same error object under a
 * well-known symbol, read with {@link sagaFailureOf}. Only a compensation marked `critical`
 * changes the outcome: its failure becomes {@link CompensationFailedError}
 * (`COMPENSATION_FAILED`), because then the system is left in a state someone must repair.
 */
import { BallastError } from '../errors/ballast-error.js';
import { invalidArgument } from '../options/invalid-argument.js';

/** A compensation that threw. */
export interface CompensationFailure {
  /** Name of the step whose compensation failed. */
  readonly step: string;
  readonly error: unknown;
  /** Whether the step was marked `critical`. */
  readonly critical: boolean;
}

/** How a saga failed and what undoing it did. */
export interface SagaFailure {
  readonly saga: string;
  readonly traceId: string;
  /** The step whose `run` threw. */
  readonly failedStep: string;
  /** Steps compensated successfully, in the order they were undone. */
  readonly compensated: readonly string[];
  /** Compensations that threw, in the order they ran. */
  readonly compensationFailures: readonly CompensationFailure[];
}

/**
 * The property under which a saga attaches its {@link SagaFailure} to the error it rethrows.
 * A registered symbol, so two installed copies of `@ballast/core` agree on it.
 */
export const sagaFailureKey: unique symbol = Symbol.for('ballast.saga.failure');

/**
 * The {@link SagaFailure} attached to an error a saga threw, or `undefined` (the error did not
 * come from a saga, or was a primitive that cannot carry properties).
 *
 * @example
 * ```ts
 * try { await uploadThenRecord(options); }
 * catch (error) {
 *   const failure = sagaFailureOf(error);
 *   if (failure?.compensationFailures.length) alertOps(failure); // an orphan was left behind
 *   throw error;
 * }
 * ```
 */
export function sagaFailureOf(error: unknown): SagaFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as { [sagaFailureKey]?: SagaFailure })[sagaFailureKey];
}

/**
 * Attaches `failure` to `error` (non-enumerable, so it never shows up in JSON or problem+json).
 * When a nested saga already attached one, the compensation failures of both are kept.
 */
export function attachSagaFailure(error: unknown, failure: SagaFailure): void {
  if (typeof error !== 'object' || error === null || !Object.isExtensible(error)) return;
  const inner = sagaFailureOf(error);
  const merged: SagaFailure = inner
    ? {
        ...failure,
        compensationFailures: [...inner.compensationFailures, ...failure.compensationFailures],
      }
    : failure;
  Object.defineProperty(error, sagaFailureKey, {
    value: merged,
    enumerable: false,
    configurable: true,
    writable: false,
  });
}

/**
 * `COMPENSATION_FAILED`: a step failed and a compensation marked `critical` could not undo an
 * earlier step, so the system is inconsistent until someone (or reconciliation) repairs it.
 * `cause` and `originalError` are the error that broke the saga; `compensationFailures` holds
 * the compensation errors. `details.traceId` is safe to show, so support can find the logs.
 */
export class CompensationFailedError extends BallastError {
  /** The error whose step failed and started the compensation. */
  readonly originalError: unknown;
  /** Every compensation that failed, critical or not. */
  readonly compensationFailures: readonly CompensationFailure[];
  readonly saga: string;
  readonly failedStep: string;

  constructor(failure: SagaFailure, originalError: unknown) {
    if (!Array.isArray((failure as Partial<SagaFailure> | null)?.compensationFailures)) {
      throw invalidArgument('new CompensationFailedError()', 'failure', 'a SagaFailure');
    }
    const critical = failure.compensationFailures.filter((f) => f.critical).map((f) => f.step);
    super('COMPENSATION_FAILED', {
      message: `Saga "${failure.saga}" failed at step "${failure.failedStep}" and the critical compensation of ${critical.map((s) => `"${s}"`).join(', ')} failed too.`,
      cause: originalError,
      details: { traceId: failure.traceId },
    });
    this.originalError = originalError;
    this.compensationFailures = failure.compensationFailures;
    this.saga = failure.saga;
    this.failedStep = failure.failedStep;
  }
}
