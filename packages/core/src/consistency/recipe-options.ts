/**
 * Options every recipe shares, and the schemas that check the ports a caller passes in, so
 * a missing `storage` or a records object without `insert` fails at the call with
 * `INVALID_OPTIONS` naming the field, not halfway through an upload.
 */
import type { Clock } from '../clock/clock.js';
import type { Logger } from '../logging/logger.js';
import * as v from '../options/small-validator.js';
import type { ObjectStorage } from '../storage/object-storage.js';

/** Options shared by every consistency recipe. */
export interface RecipeOptions {
  /** Receives step failures, compensations and compensation failures. Default: none. */
  readonly logger?: Logger;
  /** Carried into log lines and records calls. Default: a random UUID per call. */
  readonly traceId?: string;
  /** Aborts between steps; completed steps are then compensated. Default: none. */
  readonly signal?: AbortSignal;
  /** Source of `now` for records and expiries. Default `systemClock`. */
  readonly clock?: Clock;
}

/** A port that has at least `methods`. */
/* @__NO_SIDE_EFFECTS__ */
export function portSchema<T>(description: string, ...methods: string[]) {
  return v.methods<T>(methods, `${description} with ${methods.join(', ')}`);
}

/* @__NO_SIDE_EFFECTS__ */
export function storageSchema(...methods: Array<keyof ObjectStorage>) {
  return portSchema<ObjectStorage>('an ObjectStorage', ...methods);
}

export const recipeOptionsShape = {
  logger: v.optional(portSchema<Logger>('a Logger', 'debug', 'info', 'warn', 'error')),
  traceId: v.optional(v.string({ minLength: 1, maxLength: 200 })),
  signal: v.optional(v.abortSignal()),
  clock: v.optional(portSchema<Clock>('a Clock', 'now', 'sleep', 'setTimer')),
};

/**
 * `shape` with {@link recipeOptionsShape}'s fields. A function rather than a spread in each
 * recipe's schema: a spread at module level counts as a side effect to a bundler, which would
 * then keep every recipe's schema in every bundle of core's single-file build.
 */
/* @__NO_SIDE_EFFECTS__ */
export function withRecipeOptions<Shape extends object>(
  shape: Shape,
): typeof recipeOptionsShape & Shape {
  return { ...recipeOptionsShape, ...shape };
}

export const keySchema = v.string({ minLength: 1, maxLength: 1024 });

export const bodySchema = v.custom<Uint8Array | string | ReadableStream<Uint8Array>>(
  (value) =>
    typeof value === 'string' || value instanceof Uint8Array || value instanceof ReadableStream,
  'a Uint8Array, a string or a ReadableStream',
);
