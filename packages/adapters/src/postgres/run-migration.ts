/**
 * How every Ballast table is created: all statements in one transaction under an advisory lock
 * named for the table, so each process may migrate at start-up without racing the others on
 * `CREATE TABLE IF NOT EXISTS` (which is not atomic against a concurrent create).
 */
import { invalidArgument } from '@ballast/core/adapter-kit';
import { type Kysely, sql } from 'kysely';

/** Runs `statements` in one transaction holding the advisory lock `lockName`. */
export async function runMigration<DB>(
  db: Kysely<DB>,
  lockName: string,
  statements: readonly string[],
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${lockName}))`.execute(trx);
    // One statement per call: PGlite and pg's extended protocol refuse several at once.
    for (const statement of statements) await sql.raw(statement).execute(trx);
  });
}

/** Throws `INVALID_OPTIONS` naming `where` unless `db` looks like a Kysely instance. */
export function assertDatabase(db: unknown, where: string): void {
  if (typeof (db as { transaction?: unknown } | null)?.transaction !== 'function') {
    throw invalidArgument(where, 'db', 'a Kysely instance');
  }
}
