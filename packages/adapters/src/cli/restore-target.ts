/**
 * Where `ballast backup restore` may write. `pg_restore` creates a dump's objects one after
 * another and, with `--exit-on-error`, stops at the first that already exists: into a database
 * that has tables, a restore without `--clean` fails half-way and leaves the objects it already
 * created behind, beside the ones it collided with. An empty target, or `--clean`, cannot.
 */
import { BallastError } from '@ballast/core';
import { withClient } from '../postgres/backup/pg-dump-source.js';

/** Tables, views, sequences and the like outside the system schemas. */
const userRelations = `
  SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND s.nspname NOT IN ('pg_catalog', 'information_schema')
    AND s.nspname NOT LIKE 'pg\\_toast%' AND s.nspname NOT LIKE 'pg\\_temp%'`;

/** Throws `ALREADY_EXISTS` when the database at `url` holds any user relation. */
export async function assertEmptyRestoreTarget(url: string): Promise<void> {
  const relations = await withClient(url, async (client) => {
    const { rows } = await client.query<{ n: number }>(userRelations);
    return rows[0]?.n ?? 0;
  });
  if (relations > 0) {
    throw new BallastError('ALREADY_EXISTS', {
      message: `--into already holds ${relations} tables, views or sequences: restore into an empty database, or pass --clean to drop and replace the backup's objects`,
      details: { field: 'into' },
    });
  }
}
