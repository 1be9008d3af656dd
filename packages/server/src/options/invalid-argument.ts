/**
 * The `INVALID_OPTIONS` error for a wrong non-options argument (a `Request`, a report, response
 * parts), worded like `parseOptions`'s so every refusal reads the same:
 * `Invalid options for healthStatus(): "report": expected a HealthReport`. A plain check rather
 * than a zod schema, because these arguments sit on per-request paths.
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
