/**
 * The relay's public shape: the object `createRelay` returns and what one step reports. Apart
 * from `relay.ts` so that file holds only the loop.
 */
import type { CircuitState } from '../circuit-breaker/circuit-breaker-config.js';
import type { RelayEvents } from './relay-options.js';

/** What one {@link Relay.runOnce} did. */
export type RelayStepResult =
  | {
      readonly kind: 'published';
      /** Events the engine took. */
      readonly count: number;
      /** The claim was a full batch: more may be waiting. */
      readonly full: boolean;
      /** Events the engine refused while it took others, charged an attempt each. */
      readonly rejected: number;
      /** Of those, how many were parked as dead letters. */
      readonly parked: number;
    }
  | { readonly kind: 'empty' }
  | { readonly kind: 'failed'; readonly retryInMs: number }
  | { readonly kind: 'circuit-open'; readonly retryInMs: number }
  | { readonly kind: 'stopped' };

/** A relay made by {@link createRelay}. */
export interface Relay {
  /**
   * Starts the loop in the background. Calling it while running does nothing; while a `stop()`
   * is under way, the relay starts again once that stop is done (the last call wins).
   */
  start(): void;
  /**
   * Stops the loop and resolves once it has: an in-flight batch is finished and marked sent,
   * or, if `signal` aborts first, its publish is abandoned and its rows are given back at once.
   * Options other than an `AbortSignal` are refused with `INVALID_OPTIONS`, and nothing stops.
   */
  stop(options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Claims and publishes one batch now, without the loop (tests, a cron job, a drain on
   * shutdown). Store errors reject; publisher errors are a `failed` result.
   */
  runOnce(): Promise<RelayStepResult>;
  /** `'idle'` (never started), `'running'`, `'stopping'` or `'stopped'`. */
  readonly state: 'idle' | 'running' | 'stopping' | 'stopped';
  /** The breaker's state: `'open'` while the relay leaves a failing engine alone. */
  readonly circuit: CircuitState;
  /** The last measured depth, if any. */
  readonly lastDepth: number | undefined;
  /** Events this relay has parked as dead letters since it was created (a metric). */
  readonly deadLettered: number;
  /** Subscribes to an event; returns a function that unsubscribes. */
  on<Name extends keyof RelayEvents>(event: Name, listener: RelayEvents[Name]): () => void;
}
