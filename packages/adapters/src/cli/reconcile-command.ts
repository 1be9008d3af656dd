/**
 * `ballast reconcile [--dry-run]`: core's `reconcile()` over the documents recipe's tables
 * (`KyselyDocumentRecords`) and a bucket, with live counts on a terminal.
 */
import { type ObjectStorage, type ReconcileReport, reconcile } from '@ballast/core';
import { type Command, Option } from 'commander';
import { Kysely, PostgresDialect } from 'kysely';
import { KyselyDocumentRecords } from '../postgres/documents/index.js';
import { addStorageOptions, type CliIo, type CommandAction, exitCodeHelp } from './command-kit.js';
import { databaseUrlFrom, positiveInteger, type StorageFlags, storageFrom } from './config.js';
import { exitCodes } from './exit-codes.js';
import { importPeer } from './import-peer.js';

/** Adds `reconcile` to `program`. */
export function addReconcileCommand(program: Command, io: CliIo, action: CommandAction): void {
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
        const pg = await importPeer(() => import('pg'), 'pg', 'reconcile', 'databaseUrl');
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
              ...(io.signal && { signal: io.signal }),
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
}
