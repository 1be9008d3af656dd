/**
 * The expiry sweep every Postgres store shares. It deletes in batches, so a large backlog never
 * holds one long lock, and skips rows a running transaction has locked (they are swept next
 * time), so a sweep never waits behind, or deadlocks with, live traffic.
 */
import { type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';

export interface DeleteInBatchesOptions {
  /** The table, as a reference built from validated options. */
  readonly table: RawBuilder<unknown>;
  /** The primary-key columns (internal constants, never user input). */
  readonly keyColumns: readonly string[];
  /** Which rows to delete, e.g. sql`expires_at <= ${cutoff}`. */
  readonly where: RawBuilder<unknown>;
  readonly batchSize: number;
}

/** Deletes every row matching `where`, `batchSize` rows per statement; returns how many. */
export async function deleteInBatches(
  db: QueryExecutorProvider,
  { table, keyColumns, where, batchSize }: DeleteInBatchesOptions,
): Promise<number> {
  const key = sql.raw(keyColumns.join(', '));
  let total = 0;
  for (;;) {
    const { rows } = await sql<{ done: number }>`
      DELETE FROM ${table}
      WHERE (${key}) IN (
        SELECT ${key} FROM ${table} WHERE ${where}
        LIMIT ${batchSize} FOR UPDATE SKIP LOCKED
      )
      RETURNING 1 AS done`.execute(db);
    total += rows.length;
    if (rows.length < batchSize) return total;
  }
}
