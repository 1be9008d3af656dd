/**
 * The machinery under `withTimeout()` and each `retry()` attempt: run some work, hand it an
 * AbortSignal, and settle the moment a time limit passes or the caller aborts — even when the
 * work ignores its signal. Internal to `@ballast/core`.
 *
 * Guarantees: the timer and the abort listener are released as soon as the run settles, either
 * way (no leaked timers keeping a process alive); a result or error that arrives after the run
 * settled is dropped on purpose (the caller has already been told it timed out, and an
 * unhandled rejection from abandoned work must not crash the process); the work's signal is
 * NOT aborted after a normal settle, because a `fetch` response body may still be streaming
 * from it.
 */
import type { CancelTimer, Clock } from '../clock/clock.js';

/**
 * An AbortSignal created only when someone reads it. Most work never looks at its signal, and
 * an `AbortController` per call is a measurable share of a retry's success-path overhead.
 */
export class LazyAbortSignal {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  /** The signal handed to the work; created (already aborted, if it was) on first read. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/**
 * One real `abort` listener per signal, fanned out to the runs waiting on it. A policy's signal
 * (a shutdown signal, say) is shared by every call in flight: adding and removing an
 * EventTarget listener per attempt costs microseconds in Node, and past ten listeners Node
 * warns of a leak. A `Set` per signal costs nanoseconds and the signal sees one listener.
 */
const abortSubscribers = new WeakMap<AbortSignal, Set<() => void>>();

function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let subscribers = abortSubscribers.get(signal);
  if (subscribers === undefined) {
    const created = new Set<() => void>();
    subscribers = created;
    abortSubscribers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        for (const subscriber of created) subscriber();
        created.clear();
      },
      { once: true },
    );
  }
  const set = subscribers;
  set.add(callback);
  return () => {
    set.delete(callback);
  };
}

/** What ends a run early. */
export interface RunLimits {
  readonly clock: Clock;
  /** Milliseconds until `timeoutError()` ends the run; `Infinity` for none; `<= 0` ends it at once. */
  readonly timeoutMs: number;
  /** The caller's signal: its abort ends the run with `signal.reason`. */
  readonly signal: AbortSignal | undefined;
  /** Builds the error a timed-out run rejects with (and its work's signal aborts with). */
  timeoutError(): unknown;
}

/*
 * One run's state, as an object rather than a nest of closures: a retry attempt with a timeout
 * or a signal goes through here on the hot path, and every closure allocated per call shows in
 * its overhead.
 */
class AbortableRun<T> {
  readonly #scope: LazyAbortSignal;
  readonly #limits: RunLimits;
  #settled = false;
  #cancelTimer: CancelTimer | undefined;
  #unsubscribe: (() => void) | undefined;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  constructor(scope: LazyAbortSignal, limits: RunLimits) {
    this.#scope = scope;
    this.#limits = limits;
  }

  start(work: () => T | PromiseLike<T>): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const { clock, timeoutMs, signal } = this.#limits;
    if (Number.isFinite(timeoutMs)) {
      this.#cancelTimer = clock.setTimer(() => this.#end(this.#limits.timeoutError()), timeoutMs);
    }
    if (signal) this.#unsubscribe = onAbort(signal, () => this.#end(signal.reason));
    let pending: T | PromiseLike<T>;
    try {
      pending = work();
    } catch (error) {
      this.#fail(error);
      return promise;
    }
    Promise.resolve(pending).then(
      (value) => this.#succeed(value),
      (error: unknown) => this.#fail(error),
    );
    return promise;
  }

  #release(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#cancelTimer?.();
    this.#unsubscribe?.();
    return true;
  }

  #succeed(value: T): void {
    if (this.#release()) this.#resolve(value);
  }

  /**
   * After a timeout or abort the run already rejected; a late failure of the work is dropped
   * here on purpose (see the header).
   */
  #fail(error: unknown): void {
    if (this.#release()) this.#reject(error);
  }

  #end(error: unknown): void {
    if (!this.#release()) return;
    this.#scope.abort(error);
    this.#reject(error);
  }
}

/**
 * Runs `work` under `limits`. `scope` is the signal the work was (or will be) given; it is
 * aborted with the same reason the run rejects with.
 */
export function runAbortable<T>(
  scope: LazyAbortSignal,
  work: () => T | PromiseLike<T>,
  limits: RunLimits,
): Promise<T> {
  const { signal } = limits;
  if (signal?.aborted) {
    scope.abort(signal.reason);
    return Promise.reject(signal.reason);
  }
  if (limits.timeoutMs <= 0) {
    const error = limits.timeoutError();
    scope.abort(error);
    return Promise.reject(error);
  }
  return new AbortableRun<T>(scope, limits).start(work);
}
