/**
 * Options every recipe shares, and the zod schemas that check the ports a caller passes in, so
 * a missing `storage` or a records object without `insert` fails at the call with
 * `INVALID_OPTIONS` naming the field, not halfway through an upload.
 */
import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import type { Logger } from '../logging/logger.js';
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

const hasMethods =
  (...methods: string[]) =>
  (value: unknown): boolean =>
    typeof value === 'object' &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');

/** A port that has at least `methods`. */
export function portSchema<T>(description: string, ...methods: string[]) {
  return z.custom<T>(hasMethods(...methods), `must be ${description} with ${methods.join(', ')}`);
}

export const storageSchema = (...methods: Array<keyof ObjectStorage>) =>
  portSchema<ObjectStorage>('an ObjectStorage', ...methods);

export const recipeOptionsShape = {
  logger: portSchema<Logger>('a Logger', 'debug', 'info', 'warn', 'error').optional(),
  traceId: z.string().min(1).max(200).optional(),
  signal: z.instanceof(AbortSignal).optional(),
  clock: portSchema<Clock>('a Clock', 'now', 'sleep', 'setTimer').optional(),
};

export const keySchema = z.string().min(1).max(1024);

export const bodySchema = z.custom<Uint8Array | string | ReadableStream<Uint8Array>>(
  (v) => typeof v === 'string' || v instanceof Uint8Array || v instanceof ReadableStream,
  'must be a Uint8Array, a string or a ReadableStream',
);
