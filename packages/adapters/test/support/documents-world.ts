/**
 * A documents table on Postgres and a bucket on s3rver (or any `ObjectStorage`), with the
 * readers the consistency tests assert on: the rows, their chunks and the bucket's keys, and
 * the invariant reconciliation must restore ("no orphaned object and no row pointing at a
 * missing object survives").
 */
import { KyselyDocumentRecords, migrateDocuments } from '@ballast/adapters/postgres';
import { S3ObjectStorage } from '@ballast/adapters/s3';
import type { ObjectStorage } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { type S3TestServer, s3TestCredentials, startS3Server } from './s3-server.js';
import { postgresUrl, uniqueSchemaName } from './services.js';

export interface DocumentState {
  readonly id: string;
  readonly key: string;
  readonly status: string;
  readonly liveChunks: number;
  readonly deletedChunks: number;
}

export interface DocumentsWorld {
  readonly db: Kysely<unknown>;
  readonly schema: string;
  readonly records: KyselyDocumentRecords<{ name: string }>;
  /** Statements sent to Postgres so far (all of them, not only the records'). */
  readonly statements: () => number;
  /** Every document with its chunk counts, by key. */
  documents(prefix?: string): Promise<DocumentState[]>;
  /** Adds `count` live chunks to a document. */
  addChunks(documentId: string, count: number): Promise<void>;
  close(): Promise<void>;
}

export async function openDocumentsWorld(name: string): Promise<DocumentsWorld> {
  const schema = uniqueSchemaName(name);
  let statements = 0;
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: postgresUrl, max: 10 }) }),
    log: (event) => {
      if (event.level === 'query') statements++;
    },
  });
  await migrateDocuments(db, { schema });
  const documents = sql.id(schema, 'documents');
  const chunks = sql.id(schema, 'document_chunks');
  return {
    db,
    schema,
    records: new KyselyDocumentRecords<{ name: string }>({ db, schema }),
    statements: () => statements,
    async documents(prefix = '') {
      const result = await sql<DocumentState>`
        SELECT d.id::text AS id, d.storage_key AS key, d.status,
               count(c.id) FILTER (WHERE c.deleted_at IS NULL)::int AS "liveChunks",
               count(c.id) FILTER (WHERE c.deleted_at IS NOT NULL)::int AS "deletedChunks"
        FROM ${documents} d LEFT JOIN ${chunks} c ON c.document_id = d.id
        WHERE starts_with(d.storage_key, ${prefix})
        GROUP BY d.id ORDER BY d.storage_key COLLATE "C", d.id`.execute(db);
      return result.rows;
    },
    async addChunks(documentId, count) {
      await sql`
        INSERT INTO ${chunks} (document_id, position)
        SELECT ${documentId}::uuid, g FROM generate_series(1, ${count}::int) AS g`.execute(db);
    },
    async close() {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    },
  };
}

export interface S3World {
  readonly server: S3TestServer;
  /** The adapter under test, on the server's bucket. */
  readonly storage: S3ObjectStorage;
  close(): Promise<void>;
}

export async function openS3World(): Promise<S3World> {
  const server = await startS3Server();
  const storage = new S3ObjectStorage({
    bucket: server.bucket,
    endpoint: server.endpoint,
    credentials: s3TestCredentials,
  });
  return {
    server,
    storage,
    async close() {
      storage.close();
      await server.close();
    },
  };
}

/** Every key under `prefix`, through the port's paged listing. */
export async function bucketKeys(storage: ObjectStorage, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.list({ prefix, ...(cursor === undefined ? {} : { cursor }) });
    keys.push(...page.objects.map((object) => object.key));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return keys;
}

/**
 * What breaks "every active row has its object, no object lacks a live row, no deleted row
 * keeps its object, no live chunk under a document that is not active". Empty when consistent.
 */
export function consistencyViolations(
  documents: readonly DocumentState[],
  keys: readonly string[],
): string[] {
  const stored = new Set(keys);
  const owned = new Set<string>();
  const violations: string[] = [];
  for (const document of documents) {
    if (document.status === 'active' || document.status === 'pending') owned.add(document.key);
    if (document.status === 'active' && !stored.has(document.key)) {
      violations.push(`active row ${document.id} has no object at ${document.key}`);
    }
    if (document.status === 'deleted' && stored.has(document.key)) {
      violations.push(`deleted row ${document.id} kept its object ${document.key}`);
    }
    if (document.status !== 'active' && document.liveChunks > 0) {
      violations.push(
        `${document.status} row ${document.id} has ${document.liveChunks} live chunks`,
      );
    }
  }
  for (const key of keys) {
    if (!owned.has(key)) violations.push(`object ${key} has no live row`);
  }
  return violations;
}
