/**
 * A saga: steps that each change one system (storage, a database, a payment provider), each
 * with a compensation that undoes it. When a step fails, the completed steps are compensated in
 * reverse order and the step's own error propagates, so the caller sees the real cause (seed
 * 001: "error en rollback: se registra pero no impide la propagación del error original"). A
 * compensation failure is logged with its step name and attached to that error
 * ({@link sagaFailureOf}); for a step marked `critical` it becomes `COMPENSATION_FAILED`
 * ("error en restauración: se propaga como error crítico").
 */
import { BallastError } from '../errors/ballast-error.js';
import type { Logger } from '../logging/logger.js';
import { noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import {
  attachSagaFailure,
  CompensationFailedError,
  type CompensationFailure,
  type SagaFailure,
} from './saga-failure.js';

/** Options for {@link saga}. */
export interface SagaOptions {
  /** Name in logs and in the attached {@link SagaFailure}. Default `'saga'`. */
  readonly name?: string;
  /** Receives step failures (warn), compensations (info) and compensation failures (error). Default: none. */
  readonly logger?: Logger;
  /** Carried into every log line and step context. Default: a random UUID per run. */
  readonly traceId?: string;
  /**
   * Aborts the saga between steps: the next step fails with `ABORTED` and completed steps are
   * compensated. Compensations themselves are never aborted. Default: none.
   */
  readonly signal?: AbortSignal;
}

/** What a step's `run` and `compensate` receive. */
export interface SagaContext<Results> {
  readonly saga: string;
  /** The step being run or compensated. */
  readonly step: string;
  readonly traceId: string;
  /** The saga's logger, bound to `saga`, `step` and `traceId` when it has `child`. */
  readonly logger: Logger;
  /** The saga's signal while running; `undefined` during compensation, which must finish. */
  readonly signal: AbortSignal | undefined;
  /** Outputs of the steps completed before this one, by step name. */
  readonly results: Readonly<Results>;
}

/** One step of a saga. */
export interface SagaStep<Name extends string, Output, Results> {
  /** Unique within the saga; the key of its output in `results`. */
  readonly name: Name;
  /** Does the work. Its return value is the step's output. */
  run(context: SagaContext<Results>): Promise<Output> | Output;
  /**
   * Undoes `run` after a later step failed. Receives `run`'s output. A step without it is not
   * undone (a read, or a step that is last or undoes itself).
   */
  compensate?(context: SagaContext<Results>, output: Output): Promise<void> | void;
  /**
   * Whether a failed compensation leaves the system in a state that needs a human or a repair
   * job. If so the saga throws `COMPENSATION_FAILED` instead of the original error. Default `false`.
   */
  readonly critical?: boolean;
}

/** The results of a saga whose steps are named `Name` with outputs `Output`. */
export type WithStepResult<Results, Name extends string, Output> = Results & {
  readonly [K in Name]: Output;
};

/** A saga under construction. Immutable: `step` returns a new saga, `run` may be called again. */
export interface Saga<Results> {
  /** A saga with `step` appended. */
  step<Name extends string, Output>(
    step: SagaStep<Name, Output, Results>,
  ): Saga<WithStepResult<Results, Name, Output>>;
  /**
   * Runs the steps in order. Resolves with every step's output by name. Rejects with the
   * failing step's error (a {@link SagaFailure} attached), or with `COMPENSATION_FAILED` when a
   * critical compensation failed.
   */
  run(): Promise<Results>;
}

const optionsSchema = v.object({
  name: v.optional(v.string({ minLength: 1, maxLength: 200 })),
  logger: v.optional(v.logger()),
  traceId: v.optional(v.string({ minLength: 1, maxLength: 200 })),
  signal: v.optional(v.abortSignal()),
});

const stepSchema = v.object({
  name: v.string({ minLength: 1, maxLength: 200 }),
  run: v.func(),
  compensate: v.optional(v.func()),
  critical: v.optional(v.boolean()),
});

// The steps are stored with their types erased; `Saga<Results>` restores them for callers.
type AnyStep = SagaStep<string, unknown, Record<string, unknown>>;

interface Completed {
  readonly step: AnyStep;
  readonly output: unknown;
}

function bind(logger: Logger, bindings: Record<string, unknown>): Logger {
  return logger.child ? logger.child(bindings) : logger;
}

/**
 * Starts a saga. Add steps with `.step({ name, run, compensate?, critical? })`, then `.run()`.
 *
 * @example
 * ```ts
 * const { row } = await saga({ name: 'upload', logger, traceId })
 *   .step({
 *     name: 'object',
 *     run: ({ signal }) => storage.put(key, body, { signal }),
 *     compensate: () => storage.delete(key),
 *   })
 *   .step({ name: 'row', run: ({ results }) => db.insertDocument(key, results.object.size) })
 *   .run();
 * ```
 */
export function saga(options: SagaOptions = {}): Saga<Record<never, never>> {
  const parsed = parseOptions(optionsSchema, options, 'saga()');
  return makeSaga(parsed, []);
}

function makeSaga<Results>(options: SagaOptions, steps: readonly AnyStep[]): Saga<Results> {
  return {
    step(step) {
      const where = `saga().step() #${steps.length + 1}`;
      parseOptions(stepSchema, step, where);
      if (steps.some((s) => s.name === step.name)) {
        throw new BallastError('INVALID_OPTIONS', {
          message: `Invalid options for ${where}: "name": "${step.name}" is already a step of this saga`,
          details: { field: 'name' },
        });
      }
      return makeSaga(options, [...steps, step as unknown as AnyStep]);
    },
    run: () => runSteps(options, steps) as Promise<Results>,
  };
}

async function runSteps(
  options: SagaOptions,
  steps: readonly AnyStep[],
): Promise<Record<string, unknown>> {
  const name = options.name ?? 'saga';
  const traceId = options.traceId ?? crypto.randomUUID();
  const logger = bind(options.logger ?? noopLogger, { saga: name, traceId });
  const results: Record<string, unknown> = {};
  const completed: Completed[] = [];
  const contextFor = (step: AnyStep, signal: AbortSignal | undefined) => ({
    saga: name,
    step: step.name,
    traceId,
    logger: bind(logger, { step: step.name }),
    signal,
    results: { ...results },
  });

  for (const step of steps) {
    try {
      if (options.signal?.aborted) {
        throw new BallastError('ABORTED', {
          message: `Saga "${name}" aborted before step "${step.name}".`,
          cause: options.signal.reason,
        });
      }
      const output = await step.run(contextFor(step, options.signal));
      results[step.name] = output;
      completed.push({ step, output });
    } catch (error) {
      logger.warn(
        { saga: name, traceId, step: step.name, err: error },
        `saga step "${step.name}" failed; compensating ${completed.length} completed step(s)`,
      );
      throw await compensate(name, traceId, step.name, completed, error, logger, contextFor);
    }
  }
  return results;
}

/** Undoes `completed` in reverse; returns the error the saga must throw. */
async function compensate(
  name: string,
  traceId: string,
  failedStep: string,
  completed: readonly Completed[],
  error: unknown,
  logger: Logger,
  contextFor: (step: AnyStep, signal: undefined) => SagaContext<Record<string, unknown>>,
): Promise<unknown> {
  const compensated: string[] = [];
  const failures: CompensationFailure[] = [];
  for (const { step, output } of [...completed].reverse()) {
    if (!step.compensate) continue;
    try {
      await step.compensate(contextFor(step, undefined), output);
      compensated.push(step.name);
      logger.info({ saga: name, traceId, step: step.name }, `saga step "${step.name}" compensated`);
    } catch (compensationError) {
      // Keep undoing the other steps: one failed undo must not leave more state behind.
      const critical = step.critical === true;
      failures.push({ step: step.name, error: compensationError, critical });
      logger.error(
        { saga: name, traceId, step: step.name, critical, err: compensationError, cause: error },
        `saga compensation of step "${step.name}" failed${critical ? ' (critical)' : ''}`,
      );
    }
  }
  const failure: SagaFailure = {
    saga: name,
    traceId,
    failedStep,
    compensated,
    compensationFailures: failures,
  };
  if (failures.some((f) => f.critical)) {
    const critical = new CompensationFailedError(failure, error);
    attachSagaFailure(critical, failure);
    return critical;
  }
  attachSagaFailure(error, failure);
  return error;
}
