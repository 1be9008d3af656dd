/**
 * A circuit breaker: when a dependency keeps failing, stop calling it for a while and fail fast
 * instead, so callers get an answer in microseconds rather than after a timeout, and the
 * dependency gets room to recover. After `halfOpenAfter`, one probe call is let through; its
 * success closes the circuit, its failure opens it again.
 *
 * Why not cockatiel (the reference design, whose shape this follows): cockatiel 3.2 reads
 * `Date.now()` and `setTimeout` directly, so its open period cannot be driven by an injected
 * clock (tests would need global fake timers), and cockatiel 4 needs Node 22 while Ballast
 * supports Node 20. Core's rule is nothing heavy, runnable in browsers and edge runtimes; the state machine is small enough to own, and owning it lets the breaker use the
 * same `Clock`, error classification and `BallastError` rejections as everything else here.
 *
 * The breaker sets no timers: "open" becomes "half-open" when the first call arrives after the
 * open period (as in cockatiel), so an idle breaker keeps no process alive.
 */

import type { Clock } from '../clock/clock.js';
import { type PolicyContext, policyContext } from '../compose/policy.js';
import type { BallastError } from '../errors/ballast-error.js';
import { CodedError } from '../errors/coded-error.js';
import { circuitOpenEntry } from '../errors/core-error-codes.js';
import type { Logger } from '../logging/logger.js';
import { assertFunction, parseOptions } from '../options/parse-options.js';
import { classifyError } from '../retry/classify-error.js';
import {
  type BreakReason,
  breakerOnSchema,
  breakerSchema,
  type CircuitBreakEvent,
  type CircuitBreaker,
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitExecuteOptions,
  type CircuitState,
  type CircuitStateChange,
  executeSchema,
  type ParsedBreakerOptions,
} from './circuit-breaker-config.js';
import { ConsecutiveFailures, FailureRatio, type TripCondition } from './trip-condition.js';

/** A typed list of listeners. A throwing listener must not break the state machine. */
class Listeners<Event> {
  readonly #listeners = new Set<(event: Event) => void>();

  add(listener: (event: Event) => void): () => void {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry = (event: Event) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  emit(event: Event, logger: Logger, name: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // The state change has happened; a listener's bug is reported, not allowed to undo or
        // half-apply it, nor to turn the caller's result into an error.
        logger.error({ err: error, event: name }, 'circuit breaker listener threw');
      }
    }
  }
}

/** Whether the caller's own abort, rather than the dependency, ended a call. */
const isAbort = (error: unknown, signal: AbortSignal | undefined) =>
  signal?.aborted === true || (error as { name?: unknown } | null)?.name === 'AbortError';

const defaultIsFailure = (error: unknown) =>
  classifyError(error, { attempt: 1, now: 0 }) !== 'fail';

class ClockedCircuitBreaker implements CircuitBreaker {
  readonly #trip: TripCondition;
  readonly #halfOpenAfter: number;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #stateChanges = new Listeners<CircuitStateChange>();
  readonly #breaks = new Listeners<CircuitBreakEvent>();
  readonly #halfOpens = new Listeners<undefined>();
  readonly #resets = new Listeners<undefined>();
  #state: CircuitState = 'closed';
  #openedAt = 0;
  #probing = false;
  #isolations = 0;

  constructor(options: ParsedBreakerOptions) {
    this.#clock = options.clock;
    this.#trip =
      options.failureRatio === undefined
        ? new ConsecutiveFailures(options.consecutiveFailures ?? 5)
        : new FailureRatio(
            options.clock,
            options.failureRatio,
            options.minThroughput ?? 10,
            options.windowMs ?? options.window ?? 30_000,
          );
    this.#halfOpenAfter = options.halfOpenAfterMs ?? options.halfOpenAfter ?? 10_000;
    this.#isFailure = options.isFailure ?? defaultIsFailure;
    this.#logger = options.logger;
    const { stateChange, break: onBreak, halfOpen, reset } = options.on ?? {};
    if (stateChange) this.onStateChange(stateChange);
    if (onBreak) this.onBreak(onBreak);
    if (halfOpen) this.onHalfOpen(halfOpen);
    if (reset) this.onReset(reset);
  }

  on<Name extends keyof CircuitBreakerEvents>(
    event: Name,
    listener: CircuitBreakerEvents[Name],
  ): () => void {
    parseOptions(breakerOnSchema, { event, listener }, 'circuitBreaker.on()');
    const subscribe = {
      stateChange: (l: CircuitBreakerEvents['stateChange']) => this.onStateChange(l),
      break: (l: CircuitBreakerEvents['break']) => this.onBreak(l),
      halfOpen: (l: CircuitBreakerEvents['halfOpen']) => this.onHalfOpen(l),
      reset: (l: CircuitBreakerEvents['reset']) => this.onReset(l),
    }[event] as (l: CircuitBreakerEvents[Name]) => () => void;
    return subscribe(listener);
  }

  get state(): CircuitState {
    return this.#state;
  }

  execute<T>(
    fn: (context: PolicyContext) => T | PromiseLike<T>,
    options?: CircuitExecuteOptions,
  ): Promise<T> {
    try {
      assertFunction(fn, 'circuitBreaker.execute()');
      if (options !== undefined) parseOptions(executeSchema, options, 'circuitBreaker.execute()');
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const rejection = this.#admit();
    if (rejection) return Promise.reject(rejection);
    const probe = this.#state === 'half-open';
    if (probe) this.#probing = true;
    return this.#run(fn, probe, signal);
  }

  async #run<T>(
    fn: (context: PolicyContext) => T | PromiseLike<T>,
    probe: boolean,
    signal?: AbortSignal,
  ): Promise<T> {
    let result: T;
    try {
      result = await fn(policyContext(signal));
    } catch (error) {
      if (isAbort(error, signal)) this.#ignored(probe);
      else if (this.#isFailure(error)) this.#failed(probe, error);
      else this.#succeeded(probe);
      throw error;
    }
    this.#succeeded(probe);
    return result;
  }

  /** Lets a call in (returning nothing) or returns the CIRCUIT_OPEN error to reject it with. */
  #admit(): BallastError | undefined {
    switch (this.#state) {
      case 'closed':
        return undefined;
      case 'isolated':
        return this.#rejection({ state: 'isolated' });
      case 'half-open':
        return this.#probing ? this.#rejection({ state: 'half-open' }) : undefined;
      case 'open': {
        const retryAfterMs = this.#openedAt + this.#halfOpenAfter - this.#clock.now();
        if (retryAfterMs > 0) {
          return this.#rejection({
            state: 'open',
            retryAfterMs,
            retryAfterSeconds: Math.ceil(retryAfterMs / 1_000),
          });
        }
        this.#transition('half-open');
        this.#halfOpens.emit(undefined, this.#logger, 'halfOpen');
        return undefined;
      }
    }
  }

  #rejection(details: Record<string, unknown>): BallastError {
    return new CodedError(
      'CIRCUIT_OPEN',
      {
        message: `Circuit ${details.state}: the call was rejected without reaching the dependency`,
        details,
      },
      circuitOpenEntry,
    );
  }

  #succeeded(probe: boolean): void {
    if (probe) {
      this.#probing = false;
      if (this.#state === 'half-open') this.#close();
    } else if (this.#state === 'closed') {
      this.#trip.success();
    }
    // A call admitted while closed that ends after the circuit opened says nothing new.
  }

  #failed(probe: boolean, error: unknown): void {
    if (probe) {
      this.#probing = false;
      if (this.#state === 'half-open') this.#open('probe-failed', error);
    } else if (this.#state === 'closed' && this.#trip.failure()) {
      this.#open(this.#trip.reason, error);
    }
  }

  #ignored(probe: boolean): void {
    // A cancelled probe proved nothing: the next call probes instead.
    if (probe) this.#probing = false;
  }

  #open(reason: BreakReason, error: unknown): void {
    this.#openedAt = this.#clock.now();
    this.#transition('open');
    this.#breaks.emit({ reason, error }, this.#logger, 'break');
  }

  #close(): void {
    this.#trip.reset();
    this.#transition('closed');
    this.#resets.emit(undefined, this.#logger, 'reset');
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    this.#stateChanges.emit({ from, to }, this.#logger, 'stateChange');
  }

  isolate(): () => void {
    this.#isolations++;
    if (this.#state !== 'isolated') {
      this.#probing = false;
      this.#transition('isolated');
      this.#breaks.emit({ reason: 'isolated' }, this.#logger, 'break');
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#isolations--;
      if (this.#isolations === 0) this.#close();
    };
  }

  onStateChange(listener: (change: CircuitStateChange) => void): () => void {
    return this.#stateChanges.add(listener);
  }

  onBreak(listener: (event: CircuitBreakEvent) => void): () => void {
    return this.#breaks.add(listener);
  }

  onHalfOpen(listener: () => void): () => void {
    return this.#halfOpens.add(() => listener());
  }

  onReset(listener: () => void): () => void {
    return this.#resets.add(() => listener());
  }
}

/**
 * Creates a circuit breaker. Share one per dependency (one per upstream host, bucket or
 * database), not one per call.
 *
 * @example
 * ```ts
 * const storageBreaker = createCircuitBreaker({
 *   consecutiveFailures: 5,
 *   halfOpenAfterMs: 10_000,
 *   on: { break: ({ reason }) => logger.warn({ reason }, 'storage circuit opened') },
 * });
 * const file = await storageBreaker.execute(() => storage.head(key));
 * ```
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new ClockedCircuitBreaker(parseOptions(breakerSchema, options, 'createCircuitBreaker()'));
}
