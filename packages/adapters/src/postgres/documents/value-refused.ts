/**
 * A value the documents table cannot hold, refused by Postgres with a data exception (SQLSTATE
 * class 22: `not-a-uuid` for a uuid id, a NUL in a text column, a string past a `varchar(n)`),
 * is the caller's input, not a database failure. The ids reach the records from URLs
 * (`DELETE /documents/:id` → `markThenDelete`) and record data from uploads (a file name), so
 * such a value is answered `VALIDATION_FAILED` (400) naming what held it, instead of a driver
 * error that surfaced as a 500. It stays an error (never "no such row"): on a transaction the
 * failed statement has aborted it, and the caller must see that.
 */
import { BallastError } from '@ballast/core';

/** Whether Postgres refused a value with a data exception (SQLSTATE class 22). */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && code.startsWith('22');
}

/**
 * Runs one statement whose only caller-supplied values are in `field` (`'id'` or `'record'`),
 * turning a Postgres data exception into `VALIDATION_FAILED` on that field.
 */
export async function refusingBadValues<T>(
  field: 'id' | 'record',
  statement: () => Promise<T>,
): Promise<T> {
  try {
    return await statement();
  } catch (error) {
    if (!isDataException(error)) throw error;
    throw new BallastError('VALIDATION_FAILED', {
      message:
        field === 'id'
          ? 'Not an id of the documents table.'
          : 'The record holds a value its column cannot store.',
      details: { field },
      cause: error,
    });
  }
}
