/**
 * `ballast backup run|list|verify|restore`: thin shells over `createPostgresBackupRunner`, so
 * the CLI and an application's own backup code can never disagree about what a backup is.
 */
import type { BackupAlert, BackupRun } from '@ballast/core';
import { type Command, Option } from 'commander';
import { maxKeep } from '../postgres/backup/create-postgres-backup-runner.js';
import {
  createPostgresBackupRunner,
  type PostgresBackupRunner,
  restorePostgresBackup,
} from '../postgres/backup/index.js';
import { addStorageOptions, type CliIo, type CommandAction, exitCodeHelp } from './command-kit.js';
import {
  databaseUrlFrom,
  positiveInteger,
  postgresUrlFrom,
  type StorageFlags,
  storageFrom,
} from './config.js';
import { exitCodes } from './exit-codes.js';
import { formatBytes } from './output.js';
import { assertEmptyRestoreTarget } from './restore-target.js';

interface BackupFlags extends StorageFlags {
  databaseUrl?: string;
  dir?: string;
  keep?: number;
  prefix?: string;
  json?: boolean;
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
        .argParser(positiveInteger('--keep', maxKeep))
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

/** Adds `backup` and its subcommands to `program`. */
export function addBackupCommands(program: Command, io: CliIo, action: CommandAction): void {
  /**
   * Only `run` records anything, so only `run` creates the records table: `list`, `verify` and
   * `restore` read it, and one that does not exist reads as "no backups recorded" (DDL in a
   * database someone only asked about would be a surprise, and may not even be allowed).
   */
  const openRunner = async (
    flags: BackupFlags,
    records: 'write' | 'read',
  ): Promise<PostgresBackupRunner> => {
    const offsite = await storageFrom(flags, io.env, 'BACKUP_S3_BUCKET', false);
    return createPostgresBackupRunner({
      databaseUrl: databaseUrlFrom(flags.databaseUrl, io.env),
      dir: flags.dir ?? './backups',
      keep: flags.keep ?? 30,
      ...(offsite && { offsite }),
      offsitePrefix: flags.prefix ?? 'backups/',
      migrate: records === 'write',
    });
  };

  const withRunner = async <T>(
    flags: BackupFlags,
    fn: (runner: PostgresBackupRunner) => Promise<T>,
    records: 'write' | 'read' = 'read',
  ) => {
    const runner = await openRunner(flags, records);
    try {
      return await fn(runner);
    } finally {
      await runner.close();
    }
  };

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
        // Alerts are the runner's only word on what went wrong after a good dump (retention
        // that could not delete, an earlier copy whose retry failed); unread, they were lost.
        const alerts: BackupAlert[] = [];
        const run = await withRunner(
          flags,
          async (runner) => {
            runner.on('alert', (alert) => alerts.push(alert));
            const bar = output.progress('dumping {bytes} | {phase}', 0);
            try {
              return await runner.run({
                reason: flags.reason,
                ...(io.signal && { signal: io.signal }),
                onProgress: ({ phase, bytes }) =>
                  bar.update(0, { bytes: formatBytes(bytes), phase }),
              });
            } finally {
              bar.stop();
            }
          },
          'write',
        );
        output.result({ ok: true, run, alerts });
        output.line(
          `backup ${run.id} succeeded: ${formatBytes(run.bytes ?? 0)}, sha256 ${run.checksum}`,
        );
        if (run.offsite === 'copied') output.line(`off-site copy verified: ${run.offsiteKey}`);
        if (run.offsite === 'failed') {
          output.error(`off-site copy failed (${run.error ?? 'unknown'}); the next run retries it`);
        }
        // This run's failed copy is reported just above, in the command's own words.
        for (const alert of alerts) {
          if (alert.kind === 'offsite-copy-failed' && alert.runId === run.id) continue;
          output.error(alert.message);
        }
        return run.offsite === 'failed' || alerts.length > 0 ? exitCodes.degraded : exitCodes.ok;
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
            ...(io.signal && { signal: io.signal }),
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
    .option(
      '--clean',
      "drop the backup's objects before restoring them (pg_restore --clean --if-exists); needed when the database already has tables",
    )
    .action(
      action(async (output, id: string, flags: BackupFlags & { into: string; clean?: boolean }) => {
        const into = postgresUrlFrom(flags.into, '--into');
        if (flags.clean !== true) await assertEmptyRestoreTarget(into);
        await withRunner(flags, async (runner) => {
          // The whole file is checked against its recorded SHA-256 before pg_restore sees a
          // byte: read from a pipe, a damaged archive is half applied before the damage shows.
          await (await runner.open(id)).body.pipeTo(new WritableStream(), {
            ...(io.signal && { signal: io.signal }),
          });
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
              databaseUrl: into,
              body: counted,
              clean: flags.clean === true,
              ...(io.signal && { signal: io.signal }),
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
}
