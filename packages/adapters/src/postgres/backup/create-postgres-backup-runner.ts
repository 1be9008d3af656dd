/**
 * The Postgres backup runner as most applications use it: a database URL and a directory in,
 * `pg_dump -Fc` files with SHA-256 checksums, run records in a table, retention, and an
 * optional off-site copy through any `ObjectStorage` (S3 in production) out. Options are
 * validated here; the orchestration is core's `createBackupRunner`.
 */
import {
  type BackupEvents,
  type BackupRunner,
  type Clock,
  createBackupRunner,
  type Logger,
  type ObjectStorage,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import {
  clockSchema,
  functionSchema,
  loggerSchema,
  methodsSchema,
} from '@ballast/server/adapter-kit';
import { Kysely, PostgresDialect } from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import {
  type BackupRunsTableOptions,
  backupRunsTableOptionsSchema,
  defaultBackupRunsTableName,
  migrateBackupRuns,
} from './backup-runs-table.js';
import { databaseConnectionError } from './database-connection-error.js';
import { assertBackupDirectory, directoryBackupFiles } from './directory-backup-files.js';
import { assertPostgresUrl, pgDumpSource } from './pg-dump-source.js';
import { PostgresBackupRunStore } from './postgres-backup-run-store.js';

/** Options for {@link createPostgresBackupRunner}. */
export interface PostgresBackupRunnerOptions {
  /** The database to back up: `postgres://user:password@host:port/database`. Required. */
  databaseUrl: string;
  /**
   * Directory for the dump files (created if missing). Required. A path with a file in the way
   * is refused at start-up with `INVALID_OPTIONS`.
   */
  dir: string;
  /** Succeeded backups to keep (local and off-site); older ones are deleted. Default `30`. */
  keep?: number;
  /** Off-site storage (e.g. `S3ObjectStorage`) for a verified copy of every backup. Default: none. */
  offsite?: ObjectStorage;
  /** Key prefix of off-site copies. Default `'backups/'`. */
  offsitePrefix?: string;
  /** Read each off-site copy back to check its SHA-256 when the storage reports none. Default `true`. */
  verifyOffsiteChecksum?: boolean;
  /**
   * Kysely instance for the run records table. Default: a small pool (2 connections) on
   * `databaseUrl`, closed by `close()`.
   */
  db?: Kysely<unknown>;
  /** Where the run records live. Default `ballast_backup_runs` on the `search_path`. */
  runsTable?: BackupRunsTableOptions;
  /** Create the run records table at start-up. Default `true`. */
  migrate?: boolean;
  /** Directory holding `pg_dump`/`pg_restore`. Default: found by the server's major version. */
  pgBinDir?: string;
  /**
   * Extra `pg_dump` arguments. Default none. The run records table's rows are always excluded
   * (`--exclude-table-data`), so restoring a dump never revives a `running` run.
   */
  dumpArgs?: string[];
  /** Sanity query for restore checks (first column must be true). Default: a user table exists. */
  sanityQuery?: string;
  /**
   * A `running` run not heard from for this long is taken as dead (the runner refreshes its
   * heartbeat every fifth of this while it dumps). Default 5 minutes, at least 1 minute.
   */
  staleAfterMs?: number;
  /** Default `systemClock`. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
  /** Event listeners: `succeeded`, `failed`, `alert`. */
  on?: Partial<BackupEvents>;
}

/** A backup runner that owns a database pool. */
export interface PostgresBackupRunner extends BackupRunner {
  /** Closes the pool it created (not a `db` you passed). */
  close(): Promise<void>;
}

/** The most backups `keep` may ask for. */
export const maxKeep = 10_000;

const optionsSchema = z.strictObject({
  databaseUrl: z.string().min(1),
  dir: z.string().min(1),
  keep: z.number().int().min(1).max(maxKeep).default(30),
  offsite: methodsSchema<ObjectStorage>(
    ['put', 'get', 'head', 'delete', 'presignGet'],
    'an ObjectStorage',
  ).optional(),
  offsitePrefix: z
    .string()
    .max(512)
    .regex(/^(|.*\/)$/, 'must be empty or end with /')
    .default('backups/'),
  verifyOffsiteChecksum: z.boolean().default(true),
  db: kyselyExecutorSchema.optional(),
  runsTable: backupRunsTableOptionsSchema.partial().optional(),
  migrate: z.boolean().default(true),
  pgBinDir: z.string().min(1).optional(),
  dumpArgs: z.array(z.string().regex(/^-/, 'must be pg_dump options')).optional(),
  sanityQuery: z.string().min(1).optional(),
  staleAfterMs: z
    .number()
    .int()
    .min(60_000)
    .max(2 ** 31 - 1)
    .default(5 * 60_000),
  clock: clockSchema.optional(),
  logger: loggerSchema.optional(),
  on: z
    .strictObject({
      succeeded: functionSchema<BackupEvents['succeeded']>('a listener').optional(),
      failed: functionSchema<BackupEvents['failed']>('a listener').optional(),
      alert: functionSchema<BackupEvents['alert']>('a listener').optional(),
    })
    .optional(),
});

/**
 * Creates the run records table (unless `migrate: false`) and returns a backup runner over
 * `pg_dump -Fc`.
 *
 * @example
 * ```ts
 * const runner = await createPostgresBackupRunner({
 *   databaseUrl: process.env.DATABASE_URL!,
 *   dir: '/var/backups/app',
 *   keep: 30,
 *   offsite: new S3ObjectStorage({ bucket: process.env.BACKUP_S3_BUCKET! }),
 *   on: { alert: (alert) => pager.notify(alert.message) },
 * });
 * const schedule = scheduleBackups({ runner, at: '02:00' });
 * ```
 */
export async function createPostgresBackupRunner(
  options: PostgresBackupRunnerOptions,
): Promise<PostgresBackupRunner> {
  const parsed = parseOptions(optionsSchema, options, 'createPostgresBackupRunner()');
  assertPostgresUrl(parsed.databaseUrl, 'createPostgresBackupRunner()');
  await assertBackupDirectory(parsed.dir, 'createPostgresBackupRunner()');
  let ownPool: Kysely<unknown> | undefined;
  if (!parsed.db) {
    const pg = await import('pg');
    const Pool = (pg.default ?? pg).Pool;
    ownPool = new Kysely<unknown>({
      dialect: new PostgresDialect({
        pool: new Pool({ connectionString: parsed.databaseUrl, max: 2 }),
      }),
    });
  }
  const db = (parsed.db ?? ownPool) as Kysely<unknown>;
  const table = parsed.runsTable ?? {};
  try {
    if (parsed.migrate) await migrateBackupRuns(db, table);
  } catch (error) {
    await ownPool?.destroy();
    throw databaseConnectionError(error, 'createPostgresBackupRunner()');
  }
  const runner = createBackupRunner({
    source: pgDumpSource({
      databaseUrl: parsed.databaseUrl,
      ...(parsed.pgBinDir && { pgBinDir: parsed.pgBinDir }),
      // The run records are left out of the dump, table and all. Their rows, restored, would
      // bring back this very run as `running` and block backups until it went stale; the
      // table, restored with --clean over the live database, would be dropped and recreated
      // empty, and the history of backups whose files still exist would be gone. They describe
      // the backups, not the data; the next run creates the table where it is missing.
      dumpArgs: [
        `--exclude-table=${table.schema ? `${table.schema}.` : ''}${table.tableName ?? defaultBackupRunsTableName}`,
        ...(parsed.dumpArgs ?? []),
      ],
      ...(parsed.sanityQuery && { sanityQuery: parsed.sanityQuery }),
      ...(parsed.logger && { logger: parsed.logger }),
    }),
    files: directoryBackupFiles(parsed.dir),
    runs: new PostgresBackupRunStore({ db, ...table }),
    keep: parsed.keep,
    ...(parsed.offsite && { offsite: parsed.offsite }),
    offsitePrefix: parsed.offsitePrefix,
    verifyOffsiteChecksum: parsed.verifyOffsiteChecksum,
    staleAfterMs: parsed.staleAfterMs,
    ...(parsed.clock && { clock: parsed.clock }),
    ...(parsed.logger && { logger: parsed.logger }),
    ...(parsed.on && { on: parsed.on }),
  });
  return {
    ...runner,
    async close() {
      await ownPool?.destroy();
    },
  };
}
