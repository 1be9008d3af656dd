/**
 * The error of optimistic locking: a write carried the version the client last saw, and the
 * record has moved on since. It carries the current version (and, when the caller has it, the
 * current record), so a client can reload or merge instead of silently overwriting someone
 * else's edit.
 */
import { BallastError } from '../errors/ballast-error.js';
import { assertObjectArgument } from '../options/invalid-argument.js';

/** Options for {@link VersionConflictError}. */
export interface VersionConflictErrorOptions {
  /** The record's version now (the winner's). Serialised as `currentVersion`. */
  readonly currentVersion: number;
  /** The version the write expected. Kept for logs; not serialised. Default: unknown. */
  readonly expectedVersion?: number;
  /**
   * The current record, when the caller has it and it is safe to show the client. Serialised as
   * `current`, so a client can merge (`mergeFields`) without another round trip. Default: none.
   */
  readonly current?: Record<string, unknown>;
  /** Developer-facing message (logs). Default: names both versions. */
  readonly message?: string;
  /** The underlying error, for logs. */
  readonly cause?: unknown;
}

/**
 * `VERSION_CONFLICT` (409): the record changed since the client read it. `currentVersion` is the
 * version that won; `current` the current record when the caller supplied it.
 *
 * @example
 * ```ts
 * if (row.version !== expected) {
 *   throw new VersionConflictError({ currentVersion: row.version, expectedVersion: expected });
 * }
 * ```
 */
export class VersionConflictError extends BallastError {
  /** The record's version now. */
  readonly currentVersion: number;
  /** The version the failed write expected, when known. */
  readonly expectedVersion: number | undefined;
  /** The current record, when the caller supplied it. */
  readonly current: Readonly<Record<string, unknown>> | undefined;

  constructor(options: VersionConflictErrorOptions) {
    assertObjectArgument(options, 'new VersionConflictError()', '(options)', 'an options object');
    super('VERSION_CONFLICT', {
      message:
        options.message ??
        `The record is at version ${options.currentVersion}${
          options.expectedVersion === undefined ? '' : `, not ${options.expectedVersion}`
        }.`,
      cause: options.cause,
      details: {
        currentVersion: options.currentVersion,
        ...(options.current === undefined ? {} : { current: options.current }),
      },
    });
    this.currentVersion = options.currentVersion;
    this.expectedVersion = options.expectedVersion;
    this.current = options.current;
  }
}

/**
 * Whether `error` is a {@link VersionConflictError} (checked by code and shape, so an error from
 * another installed copy of `@ballast/core` is recognised too).
 */
export function isVersionConflict(error: unknown): error is VersionConflictError {
  return (
    error instanceof VersionConflictError ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { code?: unknown }).code === 'VERSION_CONFLICT' &&
      typeof (error as { currentVersion?: unknown }).currentVersion === 'number')
  );
}
