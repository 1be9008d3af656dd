/**
 * What the example's tests run on: PGlite in memory with the example's tables (started from a
 * copy of an initialised data directory, not initdb each time), and a temporary
 * directory as object storage wrapped in `injectFaults`, so a test can fail any storage call.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystemObjectStorage } from '@ballast/adapters/fs';
import { KyselyDocumentRecords } from '@ballast/adapters/postgres';
import { injectFaults } from '@ballast/core/testing';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { freshPGlite } from '../../../packages/adapters/test/support/fresh-pglite.js';
import type { DocumentData } from './app.js';
import { migrateExample } from './schema.js';

export interface TestEnvironment {
  readonly directory: string;
  readonly db: Kysely<unknown>;
  readonly storage: ReturnType<typeof injectFaults<FileSystemObjectStorage>>;
  readonly records: KyselyDocumentRecords<DocumentData>;
  /** Closes the database and removes the directory. */
  close(): Promise<void>;
}

export async function openTestEnvironment(name: string): Promise<TestEnvironment> {
  const directory = await mkdtemp(join(tmpdir(), `${name}-`));
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(freshPGlite()) });
  await migrateExample(db);
  return {
    directory,
    db,
    storage: injectFaults(new FileSystemObjectStorage({ directory })),
    records: new KyselyDocumentRecords<DocumentData>({ db }),
    async close() {
      await db.destroy();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
