/**
 * Fault injection for ports. Ballast's consistency promises ("nothing is lost, nothing is left
 * behind") are only as good as the tests that break each step on purpose, so the tool for it
 * is public: wrap a storage, a records port or any other object, and choose which calls fail,
 * before or after they take effect, or how slow they are. The wrapper also counts calls, which
 * is how the reconciliation tests prove their request budget.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { BallastError } from '../errors/ballast-error.js';
import { invalidArgument } from '../options/invalid-argument.js';

/** One call through a wrapped object. */
export interface InjectedCall {
  /** Method name, e.g. `'put'`. */
  readonly method: string;
  readonly args: readonly unknown[];
  /** The first argument when it is a string (a storage key, a row id). */
  readonly key?: string;
  /** 1-based count of calls to this method, this one included. */
  readonly n: number;
  /** 1-based count of calls to any method, this one included. */
  readonly total: number;
}

/**
 * Whether and how a call fails. `false`: it runs normally. `true` or `'before'`: it fails
 * without running (the request never reached the service). `'after'`: it runs, then fails (the
 * service did it, the answer was lost), the case that leaves the most surprising states.
 */
export type FaultDecision = boolean | 'before' | 'after';

/** Chooses the calls that fail. */
export type FaultPlan = (call: InjectedCall) => FaultDecision;

/** Options for {@link injectFaults}. */
export interface InjectFaultsOptions {
  /** Which calls fail. Default: none (the wrapper only counts). */
  readonly failOn?: FaultPlan;
  /**
   * The error an injected fault throws. Default: a `BallastError('UPSTREAM_ERROR')` whose
   * message names the call and whose `details.injectedFault` is `true`.
   */
  readonly error?: (call: InjectedCall) => unknown;
  /** Milliseconds each call waits (on `clock`) before running. Default: none. */
  readonly latency?: (call: InjectedCall) => number;
  /** Clock for `latency`. Default `systemClock`. */
  readonly clock?: Clock;
}

/** A fault that was injected. */
export interface InjectedFault extends InjectedCall {
  readonly phase: 'before' | 'after';
}

/** Reads and steers a wrapper made by {@link injectFaults}. */
export interface FaultController {
  /** Calls so far, to `method` or (without it) to any method. */
  calls(method?: string): number;
  /** Faults injected so far, in order. */
  readonly injected: readonly InjectedFault[];
  /** Replaces the plan (`undefined`: stop failing). Counting carries on. */
  setFailOn(plan: FaultPlan | undefined): void;
  /** Zeroes the counts and forgets injected faults; the plan stays. */
  reset(): void;
}

/** The wrapped object: the same methods, plus `faults`. */
export type WithFaults<T extends object> = T & { readonly faults: FaultController };

/**
 * Wraps `target` so that chosen method calls fail or slow down. Every method is wrapped
 * (methods are called with the original object as `this`, so private fields keep working);
 * other properties pass through. Meant for the async methods of ports: a fault is a rejected
 * promise.
 *
 * @example
 * ```ts
 * const records = injectFaults(new MemoryDocumentRecords(), { failOn: failOnCall('insert', 1) });
 * await expect(uploadThenRecord({ storage, records, key, body, record })).rejects.toThrow();
 * expect(storage.keys()).toEqual([]); // the object was deleted again
 * expect(records.faults.calls('insert')).toBe(1);
 * ```
 */
export function injectFaults<T extends object>(
  target: T,
  options: InjectFaultsOptions = {},
): WithFaults<T> {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    throw invalidArgument('injectFaults()', 'target', 'an object');
  }
  let plan = options.failOn;
  const clock = options.clock ?? systemClock;
  const counts = new Map<string, number>();
  let total = 0;
  let injected: InjectedFault[] = [];
  const wrappers = new Map<PropertyKey, unknown>();

  const controller: FaultController = {
    calls: (method) => (method === undefined ? total : (counts.get(method) ?? 0)),
    get injected() {
      return injected;
    },
    setFailOn: (next) => {
      plan = next;
    },
    reset: () => {
      counts.clear();
      total = 0;
      injected = [];
    },
  };

  const failure = (call: InjectedCall, phase: 'before' | 'after'): unknown => {
    injected.push({ ...call, phase });
    return (
      options.error?.(call) ??
      new BallastError('UPSTREAM_ERROR', {
        message: `Injected fault: ${call.method} call #${call.n} (${phase})`,
        details: { injectedFault: true, method: call.method, call: call.n, phase },
      })
    );
  };

  const wrap = (method: string, original: (...args: unknown[]) => unknown) =>
    function faulty(...args: unknown[]): unknown {
      const n = (counts.get(method) ?? 0) + 1;
      counts.set(method, n);
      total++;
      const call: InjectedCall = {
        method,
        args,
        key: typeof args[0] === 'string' ? args[0] : undefined,
        n,
        total,
      };
      const decision = plan?.(call) ?? false;
      const phase = decision === 'after' ? 'after' : decision ? 'before' : undefined;
      const delay = options.latency?.(call) ?? 0;
      const invoke = (): unknown => {
        if (phase === 'before') return Promise.reject(failure(call, 'before'));
        const result = original.apply(target, args);
        if (phase !== 'after') return result;
        return Promise.resolve(result).then(() => Promise.reject(failure(call, 'after')));
      };
      return delay > 0 ? clock.sleep(delay).then(invoke) : invoke();
    };

  return new Proxy(target, {
    get(object, property) {
      if (property === 'faults') return controller;
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      let wrapper = wrappers.get(property);
      if (wrapper === undefined) {
        wrapper = wrap(property, value as (...args: unknown[]) => unknown);
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  }) as WithFaults<T>;
}

/**
 * A plan that fails the `n`th call (1-based) to `method`, `phase` `'before'` (default) or
 * `'after'` it takes effect.
 */
export function failOnCall(method: string, n = 1, phase: 'before' | 'after' = 'before'): FaultPlan {
  return (call) => (call.method === method && call.n === n ? phase : false);
}

/** Options for {@link failRandomly}. */
export interface FailRandomlyOptions {
  /** Probability in [0, 1] that a call fails. */
  readonly rate: number;
  /** Seed of the pseudo-random sequence, so a failing chaos run can be replayed. Default `1`. */
  readonly seed?: number;
  /** Only these methods fail. Default: all. */
  readonly methods?: readonly string[];
  /** Share of faults injected after the call took effect, in [0, 1]. Default `0`. */
  readonly afterRate?: number;
}

/** A plan that fails calls at random (seeded, reproducible), for chaos runs. */
export function failRandomly(options: FailRandomlyOptions): FaultPlan {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('failRandomly()', '(options)', 'an options object with a rate');
  }
  const { rate, seed = 1, methods, afterRate = 0 } = options;
  if (!(rate >= 0 && rate <= 1) || !(afterRate >= 0 && afterRate <= 1)) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'Invalid options for failRandomly(): "rate" and "afterRate" must be in [0, 1]',
      details: { field: rate >= 0 && rate <= 1 ? 'afterRate' : 'rate' },
    });
  }
  // mulberry32: tiny, fast and good enough to spread faults; not for cryptography.
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (call) => {
    if (methods && !methods.includes(call.method)) return false;
    if (next() >= rate) return false;
    return next() < afterRate ? 'after' : 'before';
  };
}
