/**
 * Zod schemas for option values that zod has no built-in type for (a `Clock`, a `Logger`, an
 * `AbortSignal`, a callback, a driver client). Every Ballast package builds its options from
 * these, so a wrong value is reported the same way everywhere; they are exported for adapter
 * authors for the same reason. Values are checked by shape, never `instanceof`, so test doubles,
 * other realms and another installed copy of a package are accepted.
 */
import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import type { Logger } from '../logging/logger.js';
import { parseOptions } from './parse-options.js';

/** True when `value` is an object (or function) with a function under each of `methods`. */
export function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const record = value as Record<string, unknown>;
  return methods.every((method) => typeof record[method] === 'function');
}

/**
 * A schema for a client object recognised by its methods, e.g.
 * `methodsSchema<Redis>(['set', 'evalsha'], 'an ioredis client')`.
 */
export function methodsSchema<T>(methods: readonly string[], expected: string) {
  return z.custom<T>((value) => hasMethods(value, methods), { message: `expected ${expected}` });
}

/** A pino-compatible {@link Logger}: `debug`, `info`, `warn` and `error`; `child` optional. */
export const loggerSchema = methodsSchema<Logger>(
  ['debug', 'info', 'warn', 'error'],
  'a Logger (debug, info, warn, error)',
);

/** Any function. Its signature is the TypeScript type's business; zod only checks it is callable. */
export function functionSchema<Fn extends (...args: never[]) => unknown>(description: string) {
  return z.custom<Fn>((value) => typeof value === 'function', {
    message: `expected ${description}`,
  });
}

/** A `Clock`, checked by shape, so a test double or another package copy's clock is accepted. */
export function isClockLike(value: unknown): value is Clock {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Clock).now === 'function' &&
    typeof (value as Clock).sleep === 'function' &&
    typeof (value as Clock).setTimer === 'function'
  );
}

/** See {@link isClockLike}. */
export const clockSchema = z.custom<Clock>(isClockLike, {
  message: 'expected a Clock (now, sleep, setTimer)',
});

/**
 * An `AbortSignal`, checked by shape rather than `instanceof`, because polyfills and other realms
 * (jsdom, a worker) have their own `AbortSignal` class.
 */
export function isAbortSignalLike(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function'
  );
}

/** See {@link isAbortSignalLike}. */
export const abortSignalSchema = z.custom<AbortSignal>(isAbortSignalLike, {
  message: 'expected an AbortSignal',
});

const fnSchema = z.object({ fn: functionSchema<(...args: never[]) => unknown>('a function') });

/**
 * Throws `INVALID_OPTIONS` naming `fn` unless `fn` is a function: the cheap check for the
 * function argument of a hot-path call (`retry(fn)`, `breaker.execute(fn)`).
 */
export function assertFunction(fn: unknown, where: string): void {
  if (typeof fn !== 'function') parseOptions(fnSchema, { fn }, where);
}
