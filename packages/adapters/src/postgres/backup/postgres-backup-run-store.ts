/**
 * Backup run records in Postgres, so the history, the no-overlap guard and the schedule's
 * "when did the last good backup start" survive restarts and are shared by every replica.
 *
 * Reads of a table that was never created answer "no runs": nothing was ever recorded, and a
 * read-only tool (`ballast backup list`, `verify`) must not have to create the table, which is
 * DDL in someone's database, to say so. Writes still fail on it.
 */
import {
  type BackupRun,
  type BackupRunPatch,
  type BackupRunStore,
  BallastError,
  type ListBackupRunsOptions,
  type NewBackupRun,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import {
  type BackupRunsTableOptions,
  backupRunsTableOptionsSchema,
  backupRunsTableRef,
  oneRunningIndexName,
} from './backup-runs-table.js';

/** Options for {@link PostgresBackupRunStore}. */
export interface PostgresBackupRunStoreOptions extends BackupRunsTableOptions {
  /** A Kysely instance on Postgres (`pg` or PGlite). Create the table with `migrateBackupRuns(db)`. */
  db: QueryExecutorProvider;
}

const optionsSchema = backupRunsTableOptionsSchema.extend({ db: kyselyExecutorSchema });

interface Row {
  id: string;
  reason: string;
  status: BackupRun['status'];
  started_at: Date | string;
  heartbeat_at: Date | string | null;
  finished_at: Date | string | null;
  path: string;
  location: string | null;
  bytes: string | number | null;
  checksum: string | null;
  offsite: BackupRun['offsite'];
  offsite_key: string | null;
  error: string | null;
  pruned_at: Date | string | null;
  verified_at: Date | string | null;
}

const columns: Record<keyof BackupRunPatch, string> = {
  status: 'status',
  heartbeatAt: 'heartbeat_at',
  finishedAt: 'finished_at',
  bytes: 'bytes',
  checksum: 'checksum',
  offsite: 'offsite',
  offsiteKey: 'offsite_key',
  error: 'error',
  prunedAt: 'pruned_at',
  verifiedAt: 'verified_at',
};

// undefined_table, invalid_schema_name: the records' table or its schema does not exist.
const missingTableStates = new Set(['42P01', '3F000']);

/** `read()`, or `nothing` when the table (or its schema) does not exist. */
async function orNothingWhenMissing<T>(read: () => Promise<T>, nothing: T): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (missingTableStates.has(String((error as { code?: unknown } | null)?.code))) return nothing;
    throw error;
  }
}

const date = (value: Date | string) => (value instanceof Date ? value : new Date(value));

function toRun(row: Row): BackupRun {
  return {
    id: row.id,
    reason: row.reason,
    status: row.status,
    startedAt: date(row.started_at),
    path: row.path,
    offsite: row.offsite,
    ...(row.location !== null && row.location !== undefined && { location: row.location }),
    ...(row.heartbeat_at !== null && { heartbeatAt: date(row.heartbeat_at) }),
    ...(row.finished_at !== null && { finishedAt: date(row.finished_at) }),
    ...(row.bytes !== null && { bytes: Number(row.bytes) }),
    ...(row.checksum !== null && { checksum: row.checksum }),
    ...(row.offsite_key !== null && { offsiteKey: row.offsite_key }),
    ...(row.error !== null && { error: row.error }),
    ...(row.pruned_at !== null && { prunedAt: date(row.pruned_at) }),
    ...(row.verified_at !== null && { verifiedAt: date(row.verified_at) }),
  };
}

/** `BackupRunStore` on a Postgres table. */
export class PostgresBackupRunStore implements BackupRunStore {
  readonly #db: QueryExecutorProvider;
  readonly #table: RawBuilder<unknown>;
  readonly #oneRunning: string;

  constructor(options: PostgresBackupRunStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'new PostgresBackupRunStore()');
    this.#db = parsed.db;
    this.#table = backupRunsTableRef(parsed);
    this.#oneRunning = oneRunningIndexName(parsed.tableName);
  }

  async start(run: NewBackupRun): Promise<void> {
    try {
      await sql`
        INSERT INTO ${this.#table} (id, reason, status, started_at, path, location, offsite)
        VALUES (${run.id}, ${run.reason}, 'running', ${run.startedAt}, ${run.path},
          ${run.location ?? null}, ${run.offsite})`.execute(this.#db);
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === '23505' && (constraint === undefined || constraint === this.#oneRunning)) {
        throw new BallastError('BACKUP_IN_PROGRESS', {
          message: 'Another backup run is in progress.',
          cause: error,
        });
      }
      throw error;
    }
  }

  async update(id: string, patch: BackupRunPatch): Promise<void> {
    const sets = Object.entries(patch).map(
      ([key, value]) =>
        sql`${sql.id(columns[key as keyof BackupRunPatch])} = ${value === undefined ? null : value}`,
    );
    if (sets.length === 0) return;
    await sql`UPDATE ${this.#table} SET ${sql.join(sets)} WHERE id = ${id}`.execute(this.#db);
  }

  async get(id: string): Promise<BackupRun | undefined> {
    const rows = await orNothingWhenMissing(
      async () =>
        (await sql<Row>`SELECT * FROM ${this.#table} WHERE id = ${id}`.execute(this.#db)).rows,
      [],
    );
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  async list(options: ListBackupRunsOptions = {}): Promise<BackupRun[]> {
    const where = [sql`true`];
    if (!options.includePruned) where.push(sql`pruned_at IS NULL`);
    if (options.status !== undefined) where.push(sql`status = ${options.status}`);
    const limit = options.limit === undefined ? sql`` : sql`LIMIT ${options.limit}`;
    const rows = await orNothingWhenMissing(
      async () =>
        (
          await sql<Row>`
            SELECT * FROM ${this.#table} WHERE ${sql.join(where, sql` AND `)}
            ORDER BY started_at DESC, id DESC ${limit}`.execute(this.#db)
        ).rows,
      [],
    );
    return rows.map(toRun);
  }

  async failStale(seenBefore: Date, error: string): Promise<number> {
    const { rows } = await sql<{ id: string }>`
      UPDATE ${this.#table}
      SET status = 'failed', error = ${error}, finished_at = coalesce(heartbeat_at, started_at)
      WHERE status = 'running' AND coalesce(heartbeat_at, started_at) < ${seenBefore}
      RETURNING id`.execute(this.#db);
    return rows.length;
  }
}
