/**
 * Where the example keeps its data, chosen by environment variables: PGlite in `DATA_DIR` and
 * objects in a directory beside it by default (nothing to install), Postgres when
 * `DATABASE_URL` is set, S3 or any S3-compatible server when `S3_BUCKET` is set.
 */
import { join } from 'node:path';
import { FileSystemObjectStorage } from '@ballast/adapters/fs';
import { guardPostgresPool, KyselyDocumentRecords } from '@ballast/adapters/postgres';
import { S3ObjectStorage } from '@ballast/adapters/s3';
import type { ObjectStorage } from '@ballast/core';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { DocumentData } from './app.js';
import { migrateExample } from './schema.js';

export interface DocumentsEnvironment {
  readonly db: Kysely<unknown>;
  readonly storage: ObjectStorage;
  readonly records: KyselyDocumentRecords<DocumentData>;
  /** One line saying what is in use, for the start-up banner. */
  readonly description: string;
  close(): Promise<void>;
}

export async function openEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): Promise<DocumentsEnvironment> {
  const dataDir = env.DATA_DIR ?? join(process.cwd(), '.data');
  const db = env.DATABASE_URL
    ? new Kysely<unknown>({
        // Guarded: a Postgres restart fails running queries instead of crashing the process.
        dialect: new PostgresDialect({
          pool: guardPostgresPool(new pg.Pool({ connectionString: env.DATABASE_URL })),
        }),
      })
    : new Kysely<unknown>({ dialect: new PGliteDialect(new PGlite(join(dataDir, 'pglite'))) });
  await migrateExample(db);

  let storage: ObjectStorage;
  let closeStorage = () => {};
  if (env.S3_BUCKET) {
    const s3 = new S3ObjectStorage({
      bucket: env.S3_BUCKET,
      ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
      ...(env.S3_REGION ? { region: env.S3_REGION } : {}),
      ...(env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
        ? {
            credentials: {
              accessKeyId: env.S3_ACCESS_KEY_ID,
              secretAccessKey: env.S3_SECRET_ACCESS_KEY,
            },
          }
        : {}),
      ...(env.S3_FORCE_PATH_STYLE ? { forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true' } : {}),
    });
    storage = s3;
    closeStorage = () => s3.close();
  } else {
    storage = new FileSystemObjectStorage({ directory: join(dataDir, 'objects') });
  }

  const database = env.DATABASE_URL ? 'Postgres (DATABASE_URL)' : `PGlite in ${dataDir}/pglite`;
  const objects = env.S3_BUCKET
    ? `S3 bucket ${env.S3_BUCKET}${env.S3_ENDPOINT ? ` at ${env.S3_ENDPOINT}` : ''}`
    : `files in ${dataDir}/objects`;
  return {
    db,
    storage,
    records: new KyselyDocumentRecords<DocumentData>({ db }),
    description: `${database}, ${objects}`,
    async close() {
      closeStorage();
      await db.destroy();
    },
  };
}
