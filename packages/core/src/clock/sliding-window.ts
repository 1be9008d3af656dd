/**
 * Counts over the last `window` milliseconds of a {@link Clock}, for the retry budget and the
 * circuit breaker's failure ratio. The window is kept in ten slots: sliding it costs at most
 * ten additions, memory is constant however many events arrive, and a count is at most one
 * slot (10% of the window) stale. Internal to `@ballast/core`.
 */
import type { Clock } from './clock.js';

const slotCount = 10;

function slotIndex(slot: number): number {
  return ((slot % slotCount) + slotCount) % slotCount;
}

/** Sliding counts of a fixed set of event kinds (`'calls'`, `'retries'`…). */
export class SlidingWindow<Kind extends string> {
  readonly #clock: Clock;
  readonly #slotMs: number;
  readonly #slots: Record<Kind, number[]>;
  readonly #totals: Record<Kind, number>;
  readonly #kinds: readonly Kind[];
  #slot: number;

  constructor(clock: Clock, windowMs: number, kinds: readonly Kind[]) {
    this.#clock = clock;
    this.#slotMs = windowMs / slotCount;
    this.#kinds = kinds;
    this.#slots = {} as Record<Kind, number[]>;
    this.#totals = {} as Record<Kind, number>;
    for (const kind of kinds) {
      this.#slots[kind] = new Array<number>(slotCount).fill(0);
      this.#totals[kind] = 0;
    }
    this.#slot = Math.floor(clock.now() / this.#slotMs);
  }

  /** Counts `n` events of `kind` now. */
  add(kind: Kind, n = 1): void {
    const index = this.#slide();
    const slots = this.#slots[kind];
    slots[index] = (slots[index] ?? 0) + n;
    this.#totals[kind] += n;
  }

  /** Events of `kind` in the window ending now. */
  total(kind: Kind): number {
    this.#slide();
    return this.#totals[kind];
  }

  /** Forgets everything. */
  clear(): void {
    for (const kind of this.#kinds) {
      this.#slots[kind].fill(0);
      this.#totals[kind] = 0;
    }
  }

  /** Drops the slots that left the window; returns the current slot's index. */
  #slide(): number {
    const slot = Math.floor(this.#clock.now() / this.#slotMs);
    const steps = slot - this.#slot;
    if (steps !== 0) {
      // A clock that jumped backwards (an NTP correction) empties the window: its counts can no
      // longer be placed in time.
      const expired = steps < 0 ? slotCount : Math.min(steps, slotCount);
      for (let i = 1; i <= expired; i++) {
        const index = slotIndex(this.#slot + i);
        for (const kind of this.#kinds) {
          const slots = this.#slots[kind];
          this.#totals[kind] -= slots[index] ?? 0;
          slots[index] = 0;
        }
      }
      this.#slot = slot;
    }
    return slotIndex(slot);
  }
}
