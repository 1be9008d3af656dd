/**
 * The in-process {@link NonceStore}: exact for one process (tests, the demo, a single edge
 * instance), useless across several — use the Redis or Postgres store there. Its memory is
 * bounded: expired nonces are swept, and when the bound is reached with nothing expired it
 * refuses new requests rather than forget a nonce and let a replay through.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { BallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { NonceStore } from './nonce-store.js';

/** Options for {@link MemoryNonceStore}. */
export interface MemoryNonceStoreOptions {
  /** Source of time for expiry. Default `systemClock`. */
  readonly clock?: Clock;
  /**
   * Most nonces held at once. Default 100,000 (about 20 MB): 5 minutes of 330 signed requests
   * per second. When full of unexpired nonces, `checkAndStore` throws `RATE_LIMITED`.
   */
  readonly maxEntries?: number;
}

const optionsSchema = v.object({
  clock: v.optional(
    v.custom<Clock>(
      (value) => typeof (value as Partial<Clock> | null)?.now === 'function',
      'a Clock',
    ),
  ),
  maxEntries: v.optional(v.number({ integer: true, min: 1, max: 100_000_000 })),
});

/** Sweep at most this often, so a busy verifier does not scan the map on every request. */
const sweepIntervalMs = 10_000;

/**
 * A {@link NonceStore} in a `Map`. `checkAndStore` is atomic because JavaScript runs it without
 * interleaving (there is no `await` between the check and the store).
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ secret, canonical: 'strict', nonceStore: new MemoryNonceStore() });
 * ```
 */
export class MemoryNonceStore implements NonceStore {
  readonly #clock: Clock;
  readonly #maxEntries: number;
  readonly #expiries = new Map<string, number>();
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryNonceStoreOptions = {}) {
    const parsed = parseOptions(optionsSchema, options, 'new MemoryNonceStore()');
    this.#clock = parsed.clock ?? systemClock;
    this.#maxEntries = parsed.maxEntries ?? 100_000;
  }

  /** Nonces currently held (expired ones may linger until the next sweep). */
  get size(): number {
    return this.#expiries.size;
  }

  async checkAndStore(nonce: string, expiresAt: number): Promise<boolean> {
    if (typeof nonce !== 'string' || !Number.isFinite(expiresAt)) {
      // A NaN expiry would read as "already expired" and let every replay through.
      throw new BallastError('INVALID_OPTIONS', {
        message: 'MemoryNonceStore.checkAndStore(): expected a string nonce and a finite expiresAt',
        details: { field: Number.isFinite(expiresAt) ? 'nonce' : 'expiresAt' },
      });
    }
    const now = this.#clock.now();
    const known = this.#expiries.get(nonce);
    if (known !== undefined && known >= now) return false;
    if (now - this.#lastSweep >= sweepIntervalMs || this.#expiries.size >= this.#maxEntries) {
      this.#sweep(now);
    }
    if (known === undefined && this.#expiries.size >= this.#maxEntries) {
      throw new BallastError('RATE_LIMITED', {
        message: `MemoryNonceStore is full (${this.#maxEntries} unexpired nonces); refusing rather than forgetting one`,
        details: { reason: 'nonce-store-full' },
      });
    }
    this.#expiries.set(nonce, expiresAt);
    return true;
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [nonce, expiresAt] of this.#expiries) {
      if (expiresAt < now) this.#expiries.delete(nonce);
    }
  }
}
