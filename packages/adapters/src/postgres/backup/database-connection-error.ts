/**
 * A driver's failure to open a connection as a typed error, for the backup functions that open
 * their own (`restorePostgresBackup()`, `createPostgresBackupRunner()`): the server could not be
 * reached (SERVICE_UNAVAILABLE, a retry may outlive it), or it refused these credentials or this
 * database (INVALID_OPTIONS, a retry will not help). The driver's error is the `cause`; the
 * message never holds the URL, which may hold a password.
 */
import { BallastError } from '@ballast/core';
import { isUnreachableDependency } from '@ballast/server/adapter-kit';

// Bad password or no such role, no such database.
const refusedStates = new Set(['28P01', '28000', '3D000']);

/** `error` as a BallastError when it is a failure to connect to the database; otherwise as is. */
export function databaseConnectionError(error: unknown, where: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (isUnreachableDependency(error)) {
    return new BallastError('SERVICE_UNAVAILABLE', {
      message: `${where}: the database could not be reached${typeof code === 'string' ? ` (${code})` : ''}.`,
      cause: error,
    });
  }
  if (refusedStates.has(String(code))) {
    return new BallastError('INVALID_OPTIONS', {
      // pg's own words name the role or the database, never the password.
      message: `${where}: the database refused the connection: ${(error as Error).message}`,
      details: { field: 'databaseUrl' },
      cause: error,
    });
  }
  return error;
}
