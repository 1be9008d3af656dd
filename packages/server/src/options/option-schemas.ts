/**
 * Zod schemas for option values that zod has no built-in type for (a `Clock`, a `Logger`, an
 * `AbortSignal`, a callback, a driver client). The server and adapter packages build their
 * options from these, so a wrong value is reported the same way everywhere. Values are checked
 * by shape (core's `hasMethods`, `isClockLike`, `isAbortSignalLike`), never `instanceof`, so test
 * doubles, other realms and another installed copy of a package are accepted.
 *
 * They live here rather than in core because core validates without zod (its small validator
 * keeps the browser path light); zod serves the server and adapters.
 */
import type { Clock, Logger } from '@ballast/core';
import { hasMethods, isAbortSignalLike, isClockLike } from '@ballast/core/adapter-kit';
import { z } from 'zod';

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

/** A `Clock`, checked by shape (`now`, `sleep`, `setTimer`). */
export const clockSchema = z.custom<Clock>(isClockLike, {
  message: 'expected a Clock (now, sleep, setTimer)',
});

/** An `AbortSignal`, checked by shape: polyfills and other realms have their own class. */
export const abortSignalSchema = z.custom<AbortSignal>(isAbortSignalLike, {
  message: 'expected an AbortSignal',
});
