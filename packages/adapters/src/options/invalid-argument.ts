/**
 * The `INVALID_OPTIONS` error for a wrong non-options argument (an Express request or response,
 * a database handle), worded like `parseOptions`'s so every refusal reads the same:
 * `Invalid options for expressSignature(): "res": expected an Express response`.
 */
import { BallastError } from '@ballast/core';

/** Builds the error; the caller throws it (or rejects with it, in an async function). */
export function invalidArgument(where: string, field: string, expected: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for ${where}: "${field}": expected ${expected}`,
    details: { field, issues: [{ field, problem: `expected ${expected}` }] },
  });
}

/** True for a non-null object (including arrays and class instances). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
