/**
 * Validation at the public boundary. A wrong option is a programming error in the caller, so
 * it fails at once, with `INVALID_OPTIONS` and the offending field named, instead of turning
 * into a NaN delay or an infinite loop later.
 *
 * The schema is any Standard Schema: zod's in the server and adapter packages, core's own small
 * validator on the browser path, so this one helper serves every package without tying core to
 * a validation library.
 */
import type { BallastError } from '../errors/ballast-error.js';
import { CodedError } from '../errors/coded-error.js';
import { invalidOptionsEntry } from '../errors/core-error-codes.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/**
 * Parses `input` with `schema`; on failure throws `BallastError('INVALID_OPTIONS')` whose
 * message and `details.field` name the first offending field (`retries`, `backoff.maxDelay`).
 * Options are checked synchronously: a schema that validates asynchronously is refused.
 *
 * @param where the public function being called, for the message (`'retry()'`).
 */
export function parseOptions<Schema extends StandardSchemaV1>(
  schema: Schema,
  input: unknown,
  where: string,
): StandardSchemaV1.InferOutput<Schema> {
  const result = schema['~standard'].validate(input);
  if (result instanceof Promise) {
    throw new CodedError(
      'INVALID_OPTIONS',
      {
        message: `Invalid options for ${where}: option schemas must validate synchronously`,
        details: { field: '(options)' },
      },
      invalidOptionsEntry,
    );
  }
  if (result.issues === undefined) return result.value as StandardSchemaV1.InferOutput<Schema>;
  throw invalidOptions(where, result.issues);
}

/**
 * Throws `INVALID_OPTIONS` naming `fn` unless `fn` is a function: the cheap check for the
 * function argument of a hot-path call (`retry(fn)`, `breaker.execute(fn)`).
 *
 * @param name the parameter's name in the message (`'fn'`).
 */
export function assertFunction(fn: unknown, where: string, name = 'fn'): void {
  if (typeof fn !== 'function') {
    throw optionsError(where, [{ field: name, problem: 'expected a function' }]);
  }
}

/** One problem with an option: the field's dotted path (`backoff.factor`) and what is wrong. */
export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

/**
 * The `INVALID_OPTIONS` error for a schema's `issues`, naming the first: what
 * {@link parseOptions} throws.
 *
 * @internal
 */
export function invalidOptions(
  where: string,
  issues: ReadonlyArray<StandardSchemaV1.Issue>,
): BallastError {
  const problems = issues.map((issue) => ({ field: fieldOf(issue.path), problem: issue.message }));
  // A schema that fails without saying why still fails, on the options as a whole.
  return optionsError(
    where,
    problems.length > 0 ? problems : [{ field: '(options)', problem: 'invalid' }],
  );
}

/**
 * The `INVALID_OPTIONS` error for `problems` (at least one), naming the first: what
 * {@link invalidOptions} builds, and what `retry()` throws, whose hand-written schema names
 * fields directly.
 *
 * @internal
 */
export function optionsError(where: string, problems: ReadonlyArray<FieldProblem>): BallastError {
  const first = problems[0] as FieldProblem;
  return new CodedError(
    'INVALID_OPTIONS',
    {
      message: `Invalid options for ${where}: "${first.field}": ${first.problem}`,
      details: { field: first.field, issues: problems },
    },
    invalidOptionsEntry,
  );
}

function fieldOf(path: StandardSchemaV1.Issue['path']): string {
  if (path === undefined || path.length === 0) return '(options)';
  return path
    .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
    .join('.');
}
