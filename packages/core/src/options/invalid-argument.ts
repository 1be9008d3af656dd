/**
 * The `INVALID_OPTIONS` error for a wrong non-options argument (a stream, a trace context, an
 * options bag that is not an object), worded like {@link parseOptions}'s so every refusal reads
 * the same: `Invalid options for digestStream(): "body": expected a ReadableStream`.
 */
import type { BallastError } from '../errors/ballast-error.js';
import { CodedError } from '../errors/coded-error.js';
import { invalidOptionsEntry } from '../errors/core-error-codes.js';

/** Builds the error; the caller throws it (or rejects with it, in an async function). */
export function invalidArgument(where: string, field: string, expected: string): BallastError {
  return new CodedError(
    'INVALID_OPTIONS',
    {
      message: `Invalid options for ${where}: "${field}": expected ${expected}`,
      details: { field, issues: [{ field, problem: `expected ${expected}` }] },
    },
    invalidOptionsEntry,
  );
}

/** Throws unless `options` is an object or `undefined` (an optional options bag). */
export function assertOptionalOptions(options: unknown, where: string): void {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidArgument(where, '(options)', 'an options object');
  }
}

/** Throws unless `value` is a non-null object: the cheap check for a context or report argument. */
export function assertObjectArgument(
  value: unknown,
  where: string,
  field: string,
  expected: string,
): void {
  if (typeof value !== 'object' || value === null) throw invalidArgument(where, field, expected);
}
