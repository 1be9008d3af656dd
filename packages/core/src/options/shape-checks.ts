/**
 * Recognising option values by their shape, never `instanceof`: test doubles, polyfills, other
 * realms (jsdom, a worker) and another installed copy of a package all have their own classes,
 * and each must be accepted. Core's validator and the server's zod schemas both use these, so a
 * value accepted by one package is accepted by all.
 */
import type { Clock } from '../clock/clock.js';
import { invalidArgument } from './invalid-argument.js';

/** True when `value` is an object (or function) with a function under each of `methods`. */
export function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if (!Array.isArray(methods))
    throw invalidArgument('hasMethods()', 'methods', 'an array of names');
  return hasEveryMethod(value, methods);
}

/**
 * {@link hasMethods} without the check of `methods`, for core's own option checks, whose names
 * are literals (and whose policies bundle should not carry the check).
 *
 * @internal
 */
export function hasEveryMethod(value: unknown, methods: readonly string[]): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const record = value as Record<string, unknown>;
  for (const method of methods) if (typeof record[method] !== 'function') return false;
  return true;
}

/** A `Clock` (`now`, `sleep`, `setTimer`), checked by shape. */
export function isClockLike(value: unknown): value is Clock {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Clock).now === 'function' &&
    typeof (value as Clock).sleep === 'function' &&
    typeof (value as Clock).setTimer === 'function'
  );
}

/** An `AbortSignal`, checked by shape. */
export function isAbortSignalLike(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function'
  );
}
