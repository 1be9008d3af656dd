import { type CancelTimer, type Clock, sleepWith } from './clock.js';

interface PendingTimer {
  readonly due: number;
  readonly order: number;
  readonly callback: () => void;
}

/** Lets promise chains woken by a timer run before the next timer fires. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * A clock that only moves when a test says so. Timers fire in due order during
 * {@link ManualClock.advance}, and the promise chains they wake run before the next one, so a
 * retry loop that sleeps, tries, and sleeps again follows the clock step by step.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const result = retry(flaky, { clock, preset: 'mutation' });
 * await clock.advance(500); // first backoff elapses, second attempt runs
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  #timers: PendingTimer[] = [];

  /** @param start epoch milliseconds to start at. Default `0`. */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith((callback, delay) => this.setTimer(callback, delay), ms, signal);
  }

  setTimer(callback: () => void, ms: number): CancelTimer {
    const timer: PendingTimer = {
      due: this.#now + Math.max(0, ms),
      order: this.#order++,
      callback,
    };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Number of timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (including timers
   * scheduled by the callbacks themselves), each at its own due time.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#nextDue(target);
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.due;
      next.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Fires timers one by one until none is left (or `limit` fired, to stop runaway loops). */
  async runAll(limit = 1_000): Promise<void> {
    for (let fired = 0; fired < limit; fired++) {
      await settle();
      const next = this.#nextDue(Number.POSITIVE_INFINITY);
      if (!next) return;
      await this.advance(next.due - this.#now);
    }
  }

  /** Jumps the wall clock without firing timers, as an NTP correction would. */
  setNow(epochMs: number): void {
    this.#now = epochMs;
  }

  #nextDue(limit: number): PendingTimer | undefined {
    let next: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.due > limit) continue;
      if (!next || timer.due < next.due || (timer.due === next.due && timer.order < next.order)) {
        next = timer;
      }
    }
    return next;
  }
}
