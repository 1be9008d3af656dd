/**
 * How every S3 call of `S3ObjectStorage` runs and fails: under its own deadline (and the
 * caller's signal), inside the optional circuit breaker, with a missing object turned into the
 * operation's answer rather than a failure, and every other error mapped to a `BallastError`
 * with a stable code and logged once with S3's own code, status and request id.
 */
import {
  type BallastError,
  type CircuitBreaker,
  type Clock,
  isBallastError,
  type Logger,
} from '@ballast/core';
import { CallDeadline } from './call-deadline.js';
import { classifyS3Error, type S3FailureContext, toStorageError } from './s3-errors.js';

/** How a call that found no object ends, per operation. */
export type WhenMissing<T> = { readonly missing: () => T } | undefined;

/** Runs S3 calls for one storage: its clock, breaker and logger. */
export class S3Calls {
  readonly #clock: Clock;
  readonly #breaker: Pick<CircuitBreaker, 'execute'> | undefined;
  readonly #logger: Logger;

  constructor(clock: Clock, breaker: Pick<CircuitBreaker, 'execute'> | undefined, logger: Logger) {
    this.#clock = clock;
    this.#breaker = breaker;
    this.#logger = logger;
  }

  /**
   * Runs one SDK call under its deadline and the breaker. A missing object is an answer, not
   * a failure, so it is turned into the operation's result inside the breaker and never
   * counts towards opening it.
   */
  async run<T, M = never>(
    context: S3FailureContext,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    send: (deadline: CallDeadline) => Promise<T>,
    whenMissing: WhenMissing<M>,
    bodyOutlivesCall = false,
  ): Promise<T | M> {
    const attempt = async (): Promise<T | M> => {
      const deadline = new CallDeadline(this.#clock, timeoutMs, signal);
      let succeeded = false;
      try {
        const result = await send(deadline);
        succeeded = true;
        return result;
      } catch (error) {
        if (isBallastError(error)) throw error;
        const describe = `S3 ${context.operation} of ${context.key ?? context.bucket}`;
        const byDeadline = deadline.explain(error, describe);
        if (byDeadline !== undefined) throw this.log(byDeadline, context, error);
        const facts = classifyS3Error(error);
        if (facts.kind === 'not-found' && whenMissing !== undefined) return whenMissing.missing();
        throw this.report(error, context, facts);
      } finally {
        // A download keeps listening to the caller's signal until its body ends.
        if (succeeded && bodyOutlivesCall) deadline.stopTimer();
        else deadline.release();
      }
    };
    if (this.#breaker === undefined) return attempt();
    // With the caller's signal, a call the caller aborted is not held against S3.
    return this.#breaker.execute(attempt, signal === undefined ? undefined : { signal });
  }

  guardBody(
    source: ReadableStream<Uint8Array>,
    deadline: CallDeadline,
    context: S3FailureContext,
  ): ReadableStream<Uint8Array> {
    const reader = source.getReader();
    const describe = `S3 get of ${context.key}`;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (done) {
            deadline.release();
            controller.close();
            return;
          }
          controller.enqueue(value);
        } catch (error) {
          deadline.release();
          controller.error(
            deadline.explain(error, describe) ??
              toStorageError(error, context, { kind: 'unavailable' }),
          );
        }
      },
      cancel: async (reason) => {
        deadline.release();
        await reader.cancel(reason);
      },
    });
  }

  report(error: unknown, context: S3FailureContext, facts = classifyS3Error(error)): BallastError {
    return this.log(toStorageError(error, context, facts), context, error, facts);
  }

  log(
    mapped: BallastError,
    context: S3FailureContext,
    error: unknown,
    facts = classifyS3Error(error),
  ): BallastError {
    if (mapped.code === 'ABORTED') return mapped;
    this.#logger.warn(
      {
        code: mapped.code,
        retryable: mapped.retryable,
        operation: context.operation,
        bucket: context.bucket,
        key: context.key,
        s3Code: facts.s3Code,
        httpStatus: facts.httpStatus,
        requestId: facts.requestId,
      },
      mapped.message,
    );
    return mapped;
  }
}
