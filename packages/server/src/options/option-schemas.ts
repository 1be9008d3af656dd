/**
 * Zod schemas for option values zod has no type for (a `Logger`, a `Clock`, a function), shared
 * by the server package's entry points. Checked by shape, so test doubles and another package
 * copy's objects are accepted. Internal: not re-exported.
 */
import type { Clock, Logger } from '@ballast/core';
import { z } from 'zod';

/** A pino-compatible `Logger`: four log methods, `child` optional. */
export const loggerSchema = z.custom<Logger>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['debug', 'info', 'warn', 'error'].every(
      (level) => typeof (value as Record<string, unknown>)[level] === 'function',
    ),
  { message: 'expected a Logger (debug, info, warn, error)' },
);

/** A `Clock`: `now`, `sleep` and `setTimer`. */
export const clockSchema = z.custom<Clock>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Clock).now === 'function' &&
    typeof (value as Clock).sleep === 'function' &&
    typeof (value as Clock).setTimer === 'function',
  { message: 'expected a Clock (now, sleep, setTimer)' },
);

/** Any function; its signature is the TypeScript type's business. */
export function functionSchema<Fn extends (...args: never[]) => unknown>(description: string) {
  return z.custom<Fn>((value) => typeof value === 'function', {
    message: `expected ${description}`,
  });
}
