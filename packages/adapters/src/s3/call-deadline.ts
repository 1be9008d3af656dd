/**
 * One S3 call's abort signal: it fires when the caller's signal aborts or when the call's time
 * budget runs out, and remembers which of the two happened, because the SDK reports both as
 * the same `AbortError` while Ballast reports `ABORTED` (the caller gave up, do not retry) and
 * `TIMEOUT` (S3 was too slow, a retry may succeed) differently. The timer runs on the injected
 * `Clock`, so a test can time a call out without waiting.
 */
import { BallastError, type CancelTimer, type Clock } from '@ballast/core';

export class CallDeadline {
  readonly #controller = new AbortController();
  readonly #callerSignal: AbortSignal | undefined;
  readonly #timeoutMs: number;
  #cancelTimer: CancelTimer | undefined;
  #timedOut = false;
  readonly #onCallerAbort = () => this.#controller.abort(this.#callerSignal?.reason);

  constructor(clock: Clock, timeoutMs: number, callerSignal?: AbortSignal) {
    this.#callerSignal = callerSignal;
    this.#timeoutMs = timeoutMs;
    callerSignal?.addEventListener('abort', this.#onCallerAbort, { once: true });
    this.#cancelTimer = clock.setTimer(() => {
      this.#timedOut = true;
      this.#controller.abort(new BallastError('TIMEOUT'));
    }, timeoutMs);
  }

  /** The signal to hand to the SDK. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Aborts the call for a reason of the caller's making (its body stream failed). */
  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }

  /** Stops the time budget (a download's body is then governed by the caller's signal only). */
  stopTimer(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  /** Stops the timer and stops listening to the caller's signal. Safe to call twice. */
  release(): void {
    this.stopTimer();
    this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort);
  }

  /**
   * `TIMEOUT` or `ABORTED` when this deadline is why the call failed, else `undefined` (the
   * failure came from S3 or the network and is classified from the error itself).
   */
  explain(error: unknown, describe: string): BallastError | undefined {
    if (this.#timedOut) {
      return new BallastError('TIMEOUT', {
        message: `${describe} timed out after ${this.#timeoutMs} ms`,
        cause: error,
        details: { timeoutMs: this.#timeoutMs },
      });
    }
    if (this.#callerSignal?.aborted) return abortedError(this.#callerSignal, describe);
    return undefined;
  }
}

/** `ABORTED` carrying the caller's abort reason as its cause. */
export function abortedError(signal: AbortSignal, describe: string): BallastError {
  return new BallastError('ABORTED', {
    message: `${describe} was aborted by the caller`,
    cause: signal.reason,
  });
}
