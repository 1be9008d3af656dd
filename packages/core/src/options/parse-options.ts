/**
 * Validation at the public boundary. A wrong option is a programming error in the caller, so
 * it fails at once, with `INVALID_OPTIONS` and the offending field named, instead of turning
 * into a NaN delay or an infinite loop later.
 */
import type { z } from 'zod';
import { BallastError } from '../errors/ballast-error.js';

/**
 * Parses `input` with `schema`; on failure throws `BallastError('INVALID_OPTIONS')` whose
 * message and `details.field` name the first offending field (`retries`, `backoff.maxDelay`).
 *
 * @param where the public function being called, for the message (`'retry()'`).
 */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  where: string,
): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(options)',
    problem: issue.message,
  }));
  const first = issues[0] ?? { field: '(options)', problem: 'invalid' };
  throw new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for ${where}: "${first.field}": ${first.problem}`,
    details: { field: first.field, issues },
    cause: result.error,
  });
}
