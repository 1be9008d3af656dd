/**
 * A missing or mismatched outbox table is a deployment to fix, not an outage to wait out, so it
 * is `OUTBOX_NOT_MIGRATED` with the fix in the message. Other driver errors pass through as they
 * are: on the write side they belong to the caller's own transaction, on the relay side the
 * relay logs them and backs off.
 */
import { BallastError } from '@ballast/core';

// undefined_table, undefined_column, invalid_schema_name, undefined_function, undefined_object,
// datatype_mismatch.
const notMigratedStates = new Set(['42P01', '42703', '3F000', '42883', '42704', '42804']);

/** `OUTBOX_NOT_MIGRATED` for a missing table, the error itself otherwise. */
export function toOutboxError(error: unknown, table: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && notMigratedStates.has(code)) {
    return new BallastError('OUTBOX_NOT_MIGRATED', {
      message: `The outbox table ${table} is missing or does not match (SQLSTATE ${code}); run migrateOutbox() or outboxMigrationSql().`,
      cause: error,
    });
  }
  return error;
}

/** Runs `work`, translating a missing table into `OUTBOX_NOT_MIGRATED`. */
export async function outboxCall<T>(table: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toOutboxError(error, table);
  }
}
