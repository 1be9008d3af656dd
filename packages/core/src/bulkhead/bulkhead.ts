/**
 * A bulkhead: at most `maxConcurrent` calls run at once, at most `maxQueued` wait, and the rest
 * are turned away at once with `QUEUE_FULL`. It keeps one slow dependency from tying up every
 * connection, worker or socket a process has (seed 003: "everything needs limits"), and turns
 * overload into a fast, typed, retryable rejection instead of an ever-growing queue.
 *
 * Guarantees: waiting callers start in arrival order (FIFO); a freed slot is handed straight to
 * the next waiter, so a newcomer can never overtake the queue; a waiter whose signal aborts
 * leaves the queue at once and rejects with the signal's reason.
 */

import { type PolicyContext, policyContext } from '../compose/policy.js';
import { CodedError } from '../errors/coded-error.js';
import { queueFullEntry } from '../errors/core-error-codes.js';
import { assertFunction, parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';

/** Options for {@link createBulkhead}. */
export interface BulkheadOptions {
  /** Calls allowed to run at the same time. Required. */
  maxConcurrent: number;
  /** Calls allowed to wait for a slot; more are rejected with `QUEUE_FULL`. Default `0`. */
  maxQueued?: number;
}

/** Options for one {@link Bulkhead.execute} call. */
export interface BulkheadExecuteOptions {
  /** Aborting it while the call waits removes it from the queue and rejects with its reason. */
  signal?: AbortSignal;
}

/** A bulkhead made by {@link createBulkhead}. */
export interface Bulkhead {
  /**
   * Runs `fn` when a slot is free, waiting in the queue if allowed. `fn` receives
   * `{ signal }`: `options.signal` passed on (a signal that never aborts without one). Resolves or rejects with
   * `fn`'s outcome; rejects with `BallastError` `QUEUE_FULL` (retryable, status 503) at once
   * when every slot and every queue place is taken.
   */
  execute<T>(
    fn: (context: PolicyContext) => T | PromiseLike<T>,
    options?: BulkheadExecuteOptions,
  ): Promise<T>;
  /** Calls running now. */
  readonly active: number;
  /** Calls waiting now. */
  readonly queued: number;
  /** Free slots: how many more calls would start at once. */
  readonly availableSlots: number;
  /** Free queue places: how many more calls could wait. */
  readonly availableQueue: number;
}

const bulkheadSchema = v.object({
  maxConcurrent: v.number({ integer: true, min: 1 }),
  maxQueued: v.optional(v.number({ integer: true, min: 0 }), 0),
});

const executeSchema = v.object({ signal: v.optional(v.abortSignal()) });

interface Waiter {
  readonly start: () => void;
}

class QueueingBulkhead implements Bulkhead {
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  /** Insertion-ordered, with O(1) removal of an aborted waiter from anywhere in the line. */
  readonly #queue = new Set<Waiter>();
  #active = 0;

  constructor(options: v.Infer<typeof bulkheadSchema>) {
    this.#maxConcurrent = options.maxConcurrent;
    this.#maxQueued = options.maxQueued;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.size;
  }

  get availableSlots(): number {
    return this.#maxConcurrent - this.#active;
  }

  get availableQueue(): number {
    return this.#maxQueued - this.#queue.size;
  }

  execute<T>(
    fn: (context: PolicyContext) => T | PromiseLike<T>,
    options?: BulkheadExecuteOptions,
  ): Promise<T> {
    try {
      assertFunction(fn, 'bulkhead.execute()');
      if (options !== undefined) parseOptions(executeSchema, options, 'bulkhead.execute()');
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.#maxConcurrent) {
      this.#active++;
      return this.#run(fn, signal);
    }
    if (this.#queue.size >= this.#maxQueued) {
      return Promise.reject(
        new CodedError(
          'QUEUE_FULL',
          {
            message: `Bulkhead full: ${this.#active} running, ${this.#queue.size} waiting`,
            details: { maxConcurrent: this.#maxConcurrent, maxQueued: this.#maxQueued },
          },
          queueFullEntry,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.#queue.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#run(fn, signal).then(resolve, reject);
        },
      };
      this.#queue.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async #run<T>(
    fn: (context: PolicyContext) => T | PromiseLike<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    try {
      return await fn(policyContext(signal));
    } finally {
      this.#release();
    }
  }

  /** Hands the slot to the first waiter, or frees it. */
  #release(): void {
    const next = this.#queue.values().next();
    if (next.done) {
      this.#active--;
      return;
    }
    this.#queue.delete(next.value);
    next.value.start();
  }
}

/**
 * Creates a bulkhead. Share one per protected resource (a database pool, an upstream API).
 *
 * @example
 * ```ts
 * const uploads = createBulkhead({ maxConcurrent: 4, maxQueued: 20 });
 * await uploads.execute(() => storage.put(key, body), { signal: request.signal });
 * ```
 */
export function createBulkhead(options: BulkheadOptions): Bulkhead {
  return new QueueingBulkhead(parseOptions(bulkheadSchema, options, 'createBulkhead()'));
}
