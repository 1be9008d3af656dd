/**
 * What a Postgres failure means to idempotency: a missing table, column, function or schema is
 * `IDEMPOTENCY_STORE_NOT_MIGRATED` (a deployment to fix, not an outage to wait out); anything
 * else the driver throws (refused or dropped connections, a restart, a pool timeout) is
 * `IDEMPOTENCY_STORE_UNAVAILABLE` (503, retryable); a serialization failure or deadlock is
 * `TRANSACTION_CONFLICT` (409, retryable: the store answered). The driver's error is kept as `cause` for
 * logs and never reaches a response.
 */
import { BallastError, isBallastError } from '@ballast/core';
import { isLostSerializationRace, transactionConflict } from '../lost-serialization-race.js';

// SQLSTATEs of objects that do not exist or do not match: undefined_table, undefined_column,
// invalid_schema_name, undefined_function, undefined_object, datatype_mismatch,
// invalid_text_representation for the state check, wrong number of result columns.
const notMigratedStates = new Set(['42P01', '42703', '3F000', '42883', '42704', '42804']);

/** Translates a failure of the idempotency SQL into a Ballast error. */
export function toIdempotencyStoreError(error: unknown, table?: string): BallastError {
  if (isBallastError(error)) return error;
  // The store was up and answered: a concurrent transaction on the same key won.
  if (isLostSerializationRace(error)) return transactionConflict('The idempotency store', error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && notMigratedStates.has(code)) {
    return new BallastError('IDEMPOTENCY_STORE_NOT_MIGRATED', {
      message: `The idempotency table${table ? ` ${table}` : ''} or its claim/complete functions are missing or do not match (SQLSTATE ${code}); run migrateIdempotency() or idempotencyMigrationSql().`,
      cause: error,
    });
  }
  return new BallastError('IDEMPOTENCY_STORE_UNAVAILABLE', {
    message: `The idempotency store (Postgres) failed${typeof code === 'string' ? ` (${code})` : ''}.`,
    cause: error,
  });
}

/**
 * withIdempotency()'s completion matched no row. Unreachable unless the row was changed inside
 * the call's own transaction; failing keeps the effect from committing without its key.
 */
export function keyChangedInTransaction(key: string): BallastError {
  return new BallastError('INTERNAL', {
    message: `withIdempotency(): the key "${key}" changed inside its own transaction`,
  });
}
