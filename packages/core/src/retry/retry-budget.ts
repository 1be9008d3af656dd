/**
 * A retry budget: retries limited to a share of recent calls, shared by every call that uses
 * it. Without one, when a dependency goes down each client multiplies its load by the number
 * of attempts (4× with the presets) exactly when it can least take it. With a 10% budget, a
 * fleet adds at most 10% on top of its normal traffic (plus a small floor so a quiet client
 * can still retry). The model is Finagle's `RetryBudget` and gRPC's retry throttling.
 */

import type { Clock } from '../clock/clock.js';
import { SlidingWindow } from '../clock/sliding-window.js';
import { systemClock } from '../clock/system-clock.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';

/** Options for {@link createRetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed per call in the window, on top of the floor. Default `0.1` (10%). */
  ratio?: number;
  /**
   * A floor of retries per second always allowed, so a client that makes few calls can still
   * retry. Default `10`.
   */
  minRetriesPerSecond?: number;
  /** The sliding window, in ms, over which calls and retries are counted. Default `10_000`. */
  windowMs?: number;
  /** @deprecated Renamed `windowMs` (durations end in `Ms`); still accepted. */
  window?: number;
  /** Source of time. Default `systemClock`. */
  clock?: Clock;
}

/** Counts over the current window. */
export interface RetryBudgetStats {
  /** Calls (first attempts) recorded in the window. */
  readonly calls: number;
  /** Retries granted in the window. */
  readonly retries: number;
  /** Retries that could be granted now. */
  readonly available: number;
  /** Retries refused since the budget was created. */
  readonly refused: number;
}

/**
 * A budget shared by many `retry()` calls (pass it as the `budget` option). `retry()` records
 * each call and asks for each retry; you only need these methods to use the budget with your
 * own retry loop.
 */
export interface RetryBudget {
  /** Records one call (a first attempt), which earns `ratio` of a retry. */
  recordCall(): void;
  /** Takes one retry if the budget allows it; `false` means do not retry. */
  tryRetry(): boolean;
  /** Counts over the current window. */
  readonly stats: RetryBudgetStats;
}

const windowSchema = v.number({ integer: true, min: 10, max: 3_600_000 });

const budgetSchema = v.refine(
  v.object({
    ratio: v.optional(v.number({ min: 0 }), 0.1),
    minRetriesPerSecond: v.optional(v.number({ min: 0 }), 10),
    windowMs: v.optional(windowSchema),
    window: v.optional(windowSchema),
    clock: v.optional(v.clock(), systemClock),
  }),
  (options) =>
    options.windowMs !== undefined && options.window !== undefined
      ? { path: ['window'], message: 'use windowMs alone (window is its deprecated name)' }
      : undefined,
);

class SlidingRetryBudget implements RetryBudget {
  readonly #ratio: number;
  readonly #floor: number;
  readonly #window: SlidingWindow<'calls' | 'retries'>;
  #refused = 0;

  constructor(options: v.Infer<typeof budgetSchema>) {
    this.#ratio = options.ratio;
    const windowMs = options.windowMs ?? options.window ?? 10_000;
    this.#floor = (options.minRetriesPerSecond * windowMs) / 1_000;
    this.#window = new SlidingWindow(options.clock, windowMs, ['calls', 'retries']);
  }

  recordCall(): void {
    this.#window.add('calls');
  }

  tryRetry(): boolean {
    if (this.#available() < 1) {
      this.#refused++;
      return false;
    }
    this.#window.add('retries');
    return true;
  }

  get stats(): RetryBudgetStats {
    return {
      calls: this.#window.total('calls'),
      retries: this.#window.total('retries'),
      available: Math.floor(this.#available()),
      refused: this.#refused,
    };
  }

  #available(): number {
    const earned = this.#floor + this.#ratio * this.#window.total('calls');
    return Math.max(0, earned - this.#window.total('retries'));
  }
}

/**
 * Creates a retry budget to share between calls: at most `ratio` retries per call over the
 * last `windowMs` ms, plus `minRetriesPerSecond`. A retry the budget refuses is not made; the
 * call rejects with its last error (see `retry()`'s `budget` option).
 *
 * @example
 * ```ts
 * const budget = createRetryBudget({ ratio: 0.1 });
 * await retry(() => fetchInvoice(id), { preset: 'read', budget });
 * ```
 */
export function createRetryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  return new SlidingRetryBudget(parseOptions(budgetSchema, options, 'createRetryBudget()'));
}
