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
 *
 * Cost: a retry attempt with a caller's signal goes through here on the hot path, so one run is
 * one object (its signal, its state and, for retry, the attempt the work receives), not a nest
 * of closures, and the signal's `AbortController` is created only if the work reads it.
 */
import type { CancelTimer, Clock } from '../clock/clock.js';

/**
 * One real `abort` listener per signal, fanned out to the runs waiting on it. A policy's signal
 * (a shutdown signal, say) is shared by every call in flight: adding and removing an
 * EventTarget listener per attempt costs microseconds in Node, and past ten listeners Node
 * warns of a leak. The runs waiting on a signal sit in an array, each knowing its slot, so
 * joining is a push and leaving a swap with the last: measured in an await loop, a `Set`'s
 * add and delete of a fresh object cost about 0.5 µs, the array a few nanoseconds.
 */
const abortSubscribers = new WeakMap<AbortSignal, AbortableRun<unknown>[]>();

/** How many runs wait on `signal` now: for tests, which check that settled runs leave. */
export function runsWaitingOn(signal: AbortSignal): number {
  return abortSubscribers.get(signal)?.length ?? 0;
}

/**
 * Work run under a time limit and a caller's signal. A subclass says what the work is
 * ({@link AbortableRun.work}) and which error a timeout rejects with; {@link AbortableRun.run}
 * starts it. Without {@link AbortableRun.run} (no limit, no signal) the object is just the
 * lazily created signal the work receives.
 */
export abstract class AbortableRun<T> {
  #controller: AbortController | undefined;
  #settled: boolean | undefined;
  #cancelTimer: CancelTimer | undefined;
  #subscribers: AbortableRun<unknown>[] | undefined;
  #slot = -1;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  /** The signal handed to the work; created on first read (already aborted, if the run ended). */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** The work, given this run (its signal) once. */
  protected abstract work(): T | PromiseLike<T>;

  /** The error a timed-out run rejects with (and its work's signal aborts with). */
  protected abstract timeoutError(): unknown;

  /**
   * Runs the work until it settles, `timeoutMs` passes (`Infinity` for no limit, `<= 0` ends the
   * run at once) or `signal` aborts (the run rejects with `signal.reason`).
   */
  run(clock: Clock, timeoutMs: number, signal: AbortSignal | undefined): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Already aborted, or no time at all: the run ends before the work starts.
    if (signal?.aborted) this.#end(signal.reason);
    else if (timeoutMs <= 0) this.#end(this.timeoutError());
    else {
      if (Number.isFinite(timeoutMs)) {
        this.#cancelTimer = clock.setTimer(() => this.#end(this.timeoutError()), timeoutMs);
      }
      if (signal) {
        let subscribers = abortSubscribers.get(signal);
        if (subscribers === undefined) {
          // The signal's one listener, which ends every run waiting on it when it aborts. It
          // captures only this block's names: capturing a parameter of run() would make every
          // call allocate a context for it.
          const created: AbortableRun<unknown>[] = [];
          const source = signal;
          subscribers = created;
          abortSubscribers.set(source, created);
          source.addEventListener(
            'abort',
            () => {
              // Emptied first: each run leaves the list as it ends, and must find its slot gone.
              for (const run of created.splice(0)) run.#end(source.reason);
            },
            { once: true },
          );
        }
        this.#subscribers = subscribers;
        this.#slot = subscribers.length;
        subscribers.push(this as AbortableRun<unknown>);
      }
      // After a timeout or abort the run already rejected; a late outcome of the work is
      // dropped here on purpose (see the header).
      try {
        Promise.resolve(this.work()).then(
          (value) => this.#release() && this.#resolve(value),
          (error: unknown) => this.#release() && this.#reject(error),
        );
      } catch (error) {
        if (this.#release()) this.#reject(error);
      }
    }
    return promise;
  }

  /**
   * Ends the run's hold on its timer and signal, once: true the first time, when the caller is
   * still to be told the outcome. Leaving the signal's list, the last run takes this one's slot.
   */
  #release(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#cancelTimer?.();
    const subscribers = this.#subscribers;
    const slot = this.#slot;
    if (subscribers?.[slot] === this) {
      const last = subscribers.pop() as AbortableRun<unknown>;
      if (last !== this) {
        subscribers[slot] = last;
        last.#slot = slot;
      }
    }
    return true;
  }

  /** Times out or aborts the run: its work's signal aborts with `error`, and it rejects with it. */
  #end(error: unknown): void {
    if (!this.#release()) return;
    this.#controller ??= new AbortController();
    this.#controller.abort(error);
    this.#reject(error);
  }
}
