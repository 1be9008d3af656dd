/**
 * The `ballast` command line: `ballast backup run|list|verify|restore` and
 * `ballast reconcile [--dry-run]`. Built on commander (subcommands, `--help` for every
 * command, typed options, usage errors we map to exit code 2) and cli-progress (a live line on
 * a terminal only). Each command is a thin shell over the library calls an application would
 * make, so the CLI and the code can never disagree about what a backup or a repair is.
 */
import {
  type BackupRun,
  isBallastError,
  type ObjectStorage,
  type ReconcileReport,
  reconcile,
} from '@ballast/core';
import { Command, CommanderError, Option } from 'commander';
import { Kysely, PostgresDialect } from 'kysely';
import {
  createPostgresBackupRunner,
  type PostgresBackupRunner,
  restorePostgresBackup,
} from '../postgres/backup/index.js';
import { KyselyDocumentRecords } from '../postgres/documents/index.js';
import { databaseUrlFrom, positiveInteger, type StorageFlags, storageFrom } from './config.js';
import { type ExitCode, exitCodes } from './exit-codes.js';
import { formatBytes, Output } from './output.js';

/** Where the CLI reads and writes; the real process by default, a test harness otherwise. */
export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
}

interface BackupFlags extends StorageFlags {
  databaseUrl?: string;
  dir?: string;
  keep?: number;
  prefix?: string;
  json?: boolean;
}

const exitCodeHelp = `
Exit codes:
  0  done
  1  failed (backup failed, verification found damage, repairs failed)
  2  usage error
  3  configuration error or service unreachable
  4  another backup is running
  5  backup good, but its off-site copy failed`;

function exitCodeFor(error: unknown): ExitCode {
  if (isBallastError(error)) {
    if (error.code === 'INVALID_OPTIONS') return exitCodes.config;
    if (error.code === 'BACKUP_IN_PROGRESS') return exitCodes.busy;
    if (['STORAGE_UNAVAILABLE', 'NETWORK_ERROR', 'TIMEOUT', 'CIRCUIT_OPEN'].includes(error.code)) {
      return exitCodes.config;
    }
    return exitCodes.failed;
  }
  const code = (error as { code?: unknown })?.code;
  // Connection refused, unknown host, bad password, unknown database.
  if (['ECONNREFUSED', 'ENOTFOUND', '28P01', '28000', '3D000'].includes(String(code))) {
    return exitCodes.config;
  }
  return exitCodes.failed;
}

function addStorageOptions(command: Command, variable: string, what: string): Command {
  return command
    .addOption(new Option('--bucket <name>', `S3 bucket for ${what}`).env(variable))
    .addOption(
      new Option('--s3-endpoint <url>', 'S3-compatible endpoint (MinIO, R2…)').env('S3_ENDPOINT'),
    )
    .addOption(new Option('--s3-region <region>', 'S3 region').env('AWS_REGION'))
    .option('--storage-dir <path>', `a local directory instead of S3 for ${what}`);
}

function addBackupOptions(command: Command): Command {
  command
    .addOption(new Option('--database-url <url>', 'database to back up').env('DATABASE_URL'))
    .addOption(
      new Option('--dir <path>', 'local backup directory')
        .env('BALLAST_BACKUP_DIR')
        .default('./backups'),
    )
    .addOption(
      new Option('--keep <n>', 'backups to keep')
        .env('BALLAST_BACKUP_KEEP')
        .argParser(positiveInteger('--keep'))
        .default(30),
    )
    .addOption(new Option('--prefix <prefix>', 'key prefix of off-site copies').default('backups/'))
    .option('--json', 'print one JSON document for scripts')
    .addHelpText('after', exitCodeHelp);
  return addStorageOptions(command, 'BACKUP_S3_BUCKET', 'the off-site copy');
}

function describeRun(run: BackupRun): string {
  const size = run.bytes === undefined ? '' : ` ${formatBytes(run.bytes)}`;
  const offsite = run.offsite === 'none' ? '' : ` offsite:${run.offsite}`;
  return `${run.id}  ${run.status}${size}  ${run.startedAt.toISOString()}${offsite}${run.prunedAt ? '  pruned' : ''}`;
}

export function buildProgram(io: CliIo, setExit: (code: ExitCode) => void): Command {
  const outputOf = (json: boolean | undefined) =>
    new Output({ json: json === true, stdout: io.stdout, stderr: io.stderr });

  /** Runs a command body, turning every failure into a message and an exit code. */
  const action =
    <A extends unknown[]>(body: (output: Output, ...args: A) => Promise<ExitCode>) =>
    async (...args: A) => {
      const flags = args.at(-2) as { json?: boolean };
      const output = outputOf(flags?.json);
      try {
        setExit(await body(output, ...args));
      } catch (error) {
        const code = exitCodeFor(error);
        const message = error instanceof Error ? error.message : String(error);
        output.error(message);
        output.result({
          ok: false,
          error: { code: isBallastError(error) ? error.code : 'INTERNAL', message },
        });
        setExit(code);
      }
    };

  const openRunner = async (flags: BackupFlags): Promise<PostgresBackupRunner> => {
    const offsite = await storageFrom(flags, io.env, 'BACKUP_S3_BUCKET', false);
    return createPostgresBackupRunner({
      databaseUrl: databaseUrlFrom(flags.databaseUrl, io.env),
      dir: flags.dir ?? './backups',
      keep: flags.keep ?? 30,
      ...(offsite && { offsite }),
      offsitePrefix: flags.prefix ?? 'backups/',
    });
  };

  const withRunner = async <T>(
    flags: BackupFlags,
    fn: (runner: PostgresBackupRunner) => Promise<T>,
  ) => {
    const runner = await openRunner(flags);
    try {
      return await fn(runner);
    } finally {
      await runner.close();
    }
  };

  const program = new Command('ballast')
    .description('Ballast operations: database backups and storage reconciliation.')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', exitCodeHelp)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  const backup = program
    .command('backup')
    .description('pg_dump backups with SHA-256 checksums, retention and an off-site copy')
    .addHelpText('after', exitCodeHelp);

  addBackupOptions(
    backup.command('run').description('take a backup now, copy it off-site, apply retention'),
  )
    .option('--reason <text>', 'recorded as the run reason', 'manual')
    .action(
      action(async (output, flags: BackupFlags & { reason: string }) => {
        const run = await withRunner(flags, async (runner) => {
          const bar = output.progress('dumping {bytes} | {phase}', 0);
          try {
            return await runner.run({
              reason: flags.reason,
              onProgress: ({ phase, bytes }) => bar.update(0, { bytes: formatBytes(bytes), phase }),
            });
          } finally {
            bar.stop();
          }
        });
        output.result({ ok: true, run });
        output.line(
          `backup ${run.id} succeeded: ${formatBytes(run.bytes ?? 0)}, sha256 ${run.checksum}`,
        );
        if (run.offsite === 'copied') output.line(`off-site copy verified: ${run.offsiteKey}`);
        if (run.offsite === 'failed') {
          output.error(`off-site copy failed (${run.error ?? 'unknown'}); the next run retries it`);
          return exitCodes.degraded;
        }
        return exitCodes.ok;
      }),
    );

  addBackupOptions(backup.command('list').description('list recorded backup runs, newest first'))
    .option('--all', 'include runs pruned by retention')
    .option('--limit <n>', 'most runs to show', positiveInteger('--limit'))
    .action(
      action(async (output, flags: BackupFlags & { all?: boolean; limit?: number }) => {
        const runs = await withRunner(flags, (runner) =>
          runner.list({
            includePruned: flags.all === true,
            ...(flags.limit && { limit: flags.limit }),
          }),
        );
        output.result({ ok: true, runs });
        if (runs.length === 0) output.line('no backups recorded');
        for (const run of runs) output.line(describeRun(run));
        return exitCodes.ok;
      }),
    );

  addBackupOptions(
    backup
      .command('verify')
      .description(
        're-hash local and off-site copies; with --restore, restore the newest into a scratch database',
      ),
  )
    .option(
      '--restore',
      'also restore the newest backup into a scratch database and run the sanity query',
    )
    .option('--limit <n>', 'newest runs to check', positiveInteger('--limit'))
    .action(
      action(async (output, flags: BackupFlags & { restore?: boolean; limit?: number }) => {
        const report = await withRunner(flags, (runner) =>
          runner.verify({
            restore: flags.restore === true,
            ...(flags.limit && { limit: flags.limit }),
          }),
        );
        output.result(report);
        for (const run of report.runs)
          output.line(`${run.runId}  local:${run.local}  offsite:${run.offsite}`);
        if (report.restore) {
          output.line(
            `restore of ${report.restore.runId}: ${report.restore.ok ? 'ok' : 'FAILED'} (${report.restore.detail})`,
          );
        }
        for (const alert of report.alerts) output.error(alert.message);
        output.line(report.ok ? 'verification passed' : 'verification FAILED');
        return report.ok ? exitCodes.ok : exitCodes.failed;
      }),
    );

  addBackupOptions(
    backup
      .command('restore')
      .description(
        'restore a backup into a database (never the configured one unless --into says so)',
      )
      .argument('<id>', 'backup run id (see `ballast backup list`)'),
  )
    .requiredOption('--into <url>', 'database to restore into')
    .option('--clean', 'drop existing objects before restoring (pg_restore --clean --if-exists)')
    .action(
      action(async (output, id: string, flags: BackupFlags & { into: string; clean?: boolean }) => {
        await withRunner(flags, async (runner) => {
          const download = await runner.open(id);
          const bar = output.progress(
            'restoring [{bar}] {percentage}% | {value}/{total} bytes',
            download.bytes,
          );
          let read = 0;
          const counted = download.body.pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, controller) {
                read += chunk.byteLength;
                bar.update(read);
                controller.enqueue(chunk);
              },
            }),
          );
          try {
            await restorePostgresBackup({
              databaseUrl: flags.into,
              body: counted,
              clean: flags.clean === true,
            });
          } finally {
            bar.stop();
          }
        });
        output.result({ ok: true, restored: id });
        output.line(`restored backup ${id}`);
        return exitCodes.ok;
      }),
    );

  const reconcileCommand = program
    .command('reconcile')
    .description(
      "compare the documents recipe's tables with the bucket: mark rows whose object is missing, delete objects of deleted rows",
    )
    .addOption(
      new Option('--database-url <url>', 'database holding the documents tables').env(
        'DATABASE_URL',
      ),
    )
    .option('--dry-run', 'report what would be repaired, change nothing')
    .option('--schema <name>', 'schema of the documents tables')
    .option('--documents-table <name>', 'documents table', 'documents')
    .option('--chunks-table <name>', 'dependants table', 'document_chunks')
    .option('--no-chunks', 'documents have no dependants table')
    .option('--prefix <prefix>', 'only keys under this prefix')
    .addOption(
      new Option('--grace-ms <ms>', 'leave objects and rows younger than this alone')
        .argParser(positiveInteger('--grace-ms'))
        .default(3_600_000),
    )
    .option('--json', 'print the report as JSON')
    .addHelpText('after', exitCodeHelp);
  addStorageOptions(reconcileCommand, 'BALLAST_S3_BUCKET', 'the documents').action(
    action(
      async (
        output,
        flags: StorageFlags & {
          databaseUrl?: string;
          dryRun?: boolean;
          schema?: string;
          documentsTable: string;
          chunksTable: string;
          chunks: boolean;
          prefix?: string;
          graceMs: number;
          json?: boolean;
        },
      ) => {
        const storage = (await storageFrom(
          flags,
          io.env,
          'BALLAST_S3_BUCKET',
          true,
        )) as ObjectStorage;
        const databaseUrl = databaseUrlFrom(flags.databaseUrl, io.env);
        const pg = await import('pg');
        const db = new Kysely<unknown>({
          dialect: new PostgresDialect({
            pool: new (pg.default ?? pg).Pool({ connectionString: databaseUrl, max: 4 }),
          }),
        });
        let report: ReconcileReport;
        try {
          const records = new KyselyDocumentRecords({
            db,
            ...(flags.schema && { schema: flags.schema }),
            documents: { table: flags.documentsTable },
            chunks: flags.chunks ? { table: flags.chunksTable } : false,
          });
          const bar = output.progress('reconciling | {value} keys checked | {found} found', 0);
          try {
            report = await reconcile({
              storage,
              records,
              dryRun: flags.dryRun === true,
              graceMs: flags.graceMs,
              ...(flags.prefix && { prefix: flags.prefix }),
              onProgress: (progress) =>
                bar.update(progress.checked, {
                  found: String(Object.values(progress.found).reduce((a, b) => a + b, 0)),
                }),
            });
          } finally {
            bar.stop();
          }
        } finally {
          await db.destroy();
          (storage as { close?: () => void }).close?.();
        }
        output.result(report);
        const count = (counts: Record<string, number>) =>
          Object.entries(counts)
            .map(([kind, n]) => `${kind}=${n}`)
            .join(' ');
        output.line(
          `${report.dryRun ? 'dry run: ' : ''}checked ${report.checked} keys (${report.rowsChecked} rows, ${report.objectsChecked} objects)`,
        );
        output.line(`found    ${count(report.found)}`);
        output.line(`repaired ${count(report.repaired)}`);
        if (report.failed > 0) output.error(`${report.failed} repairs failed; see the report`);
        return report.failed > 0 ? exitCodes.failed : exitCodes.ok;
      },
    ),
  );

  return program;
}

/** Runs the CLI with `argv` (without the node and script paths); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; anything else commander refuses is usage.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    throw error;
  }
  return exitCode;
}
