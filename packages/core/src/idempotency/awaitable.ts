/**
 * A value now or a promise of it. The idempotency store port answers this way so a store that
 * lives in memory can answer at once: the engine and the server guard then decide in the same
 * tick, with no promise allocated, and a framework hook can carry on synchronously. A store
 * that does I/O simply returns a promise.
 */
import { invalidArgument } from '../options/invalid-argument.js';

/** A value, or a promise of one. */
export type Awaitable<T> = T | PromiseLike<T>;

/**
 * True when `value` is a promise (or any thenable) rather than the value itself.
 *
 * For adapter authors, on `@ballast/core/adapter-kit`.
 */
export function isPromiseLike<T>(value: Awaitable<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PromiseLike<T>).then === 'function'
  );
}

/**
 * Runs `run` and hands back its result as a promise, a throw included as a rejection: how a
 * public method that always promises wraps its same-tick counterpart.
 *
 * For adapter authors, on `@ballast/core/adapter-kit`.
 */
export function promiseFrom<T>(run: () => Awaitable<T>): Promise<T> {
  if (typeof run !== 'function') {
    return Promise.reject(invalidArgument('promiseFrom()', 'run', 'a function'));
  }
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}
