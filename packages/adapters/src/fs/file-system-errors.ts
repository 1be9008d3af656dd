/**
 * How file-system failures leave `FileSystemObjectStorage`: a missing file or directory is an
 * answer (no such object), a symbolic link on a key's path is refused, an abort is `ABORTED`, and
 * anything else is `STORAGE_UNAVAILABLE` with the original error as its cause.
 */
import { BallastError, isBallastError } from '@ballast/core';

/** Whether an `open` with `O_NOFOLLOW` failed because the last component is a symbolic link. */
export function isSymbolicLinkRefusal(error: unknown): boolean {
  // O_NOFOLLOW on a symbolic link fails with ELOOP (Linux, macOS) or EMLINK (FreeBSD).
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ELOOP' || code === 'EMLINK';
}

/** The refusal of a key whose path goes through a symbolic link. */
export function linkRefused(key: string): BallastError {
  return new BallastError('STORAGE_UNAVAILABLE', {
    message: `File storage refuses "${key}": a directory on its path is a symbolic link.`,
    retryable: false,
  });
}

/** Whether the file or a directory on its path does not exist. */
export function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** `error` as the storage reports it: a `BallastError` unchanged, else `ABORTED` or `STORAGE_UNAVAILABLE`. */
export function unavailable(
  operation: string,
  key: string | undefined,
  error: unknown,
): BallastError {
  if (isBallastError(error)) return error;
  if ((error as { name?: unknown } | null)?.name === 'AbortError') {
    return new BallastError('ABORTED', { message: `${operation} aborted.`, cause: error });
  }
  return new BallastError('STORAGE_UNAVAILABLE', {
    message: `File storage ${operation}${key === undefined ? '' : ` of "${key}"`} failed.`,
    cause: error,
  });
}
