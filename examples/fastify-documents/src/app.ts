/**
 * A documents API on Fastify whose storage and database never disagree for long: uploads go
 * through `uploadThenRecord` (object first; then the row and its chunk rows in ONE transaction,
 * so a document is never active without its chunks; object removed if that transaction fails),
 * deletes through `markThenDelete` (row and chunks soft-deleted first, restored if storage
 * fails), and `POST /reconcile` repairs what crashes leave behind. The app takes its database,
 * storage and records from the caller, so the same code runs on PGlite and a directory (the
 * default, and the tests) or on Postgres and S3.
 */
import { Readable } from 'node:stream';
import {
  type FastifyRateLimitOptions,
  fastifyErrorHandler,
  fastifyHealth,
  fastifyNotFoundHandler,
  fastifyRateLimitOptions,
} from '@ballast/adapters/fastify';
import type { FileSystemObjectStorage } from '@ballast/adapters/fs';
import {
  type DocumentRow,
  type KyselyDocumentRecords,
  postgresHealthCheck,
} from '@ballast/adapters/postgres';
import {
  BallastError,
  type Clock,
  type DocumentRecordContext,
  type Logger,
  markThenDelete,
  type ObjectStorage,
  reconcile,
  systemClock,
  uploadThenRecord,
} from '@ballast/core';
import { storageHealthCheck, versionETag } from '@ballast/server';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { registerServerKitRoutes } from './server-kit-routes.js';

/** The caller's columns of the default documents table. */
export interface DocumentData {
  readonly name: string;
}

export interface DocumentsAppOptions {
  readonly db: Kysely<unknown>;
  readonly storage: ObjectStorage;
  readonly records: KyselyDocumentRecords<DocumentData>;
  /** Fastify's logger option. Default `false`. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Largest upload, in bytes. Default 50 MiB. */
  readonly maxUploadBytes?: number;
  /**
   * Grace period of `POST /reconcile`, ms: an object without a row, or a deleted row's object,
   * younger than this is left alone (it may be an upload between its PUT and its INSERT).
   * Default one hour.
   */
  readonly reconcileGraceMs?: number;
  /** Source of time for edits and share-link expiry. Default `systemClock`. */
  readonly clock?: Clock;
  /** How long a share link lives, in ms. Default 7 days. */
  readonly shareTtlMs?: number;
  /**
   * Seed 004's rate limit on every route (`@fastify/rate-limit`). Default: the global preset,
   * 100 requests a minute per IP, localhost exempt. Pass `redis` when several instances run.
   */
  readonly rateLimit?: FastifyRateLimitOptions;
}

/** One chunk row per `chunkBytes` of the object: the rows a search index would hold. */
function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / chunkBytes));
}

/**
 * Reconciliation for this app: the storage–database pass of `reconcile()`, plus, on the
 * filesystem store, removing temporary files of writes a crash interrupted (older than the same
 * grace period). Shared by `POST /reconcile` and the server's schedule.
 */
export async function reconcileDocuments(
  options: Pick<DocumentsAppOptions, 'storage' | 'records'> & {
    readonly graceMs?: number;
    readonly dryRun?: boolean;
    readonly signal?: AbortSignal;
    readonly logger?: Logger;
    readonly traceId?: string;
  },
) {
  const { storage, records, dryRun = false, graceMs = 3_600_000 } = options;
  const report = await reconcile({
    storage,
    records,
    prefix: documentPrefix,
    dryRun,
    graceMs,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.traceId ? { traceId: options.traceId } : {}),
  });
  const files = storage as Partial<Pick<FileSystemObjectStorage, 'removeStaleTemporaryFiles'>>;
  const temporaryFilesRemoved =
    !dryRun && typeof files.removeStaleTemporaryFiles === 'function'
      ? await files.removeStaleTemporaryFiles({ olderThanMs: graceMs })
      : 0;
  return { ...report, temporaryFilesRemoved };
}

/** Objects live under this prefix, which reconciliation is limited to. */
export const documentPrefix = 'documents/';
/** Bytes per chunk row. */
const chunkBytes = 64 * 1024;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid' } },
  required: ['id'],
} as const;

interface DocumentView {
  id: string;
  name: unknown;
  status: string;
  key: string;
  size: number;
  contentType: unknown;
  /** Incremented by every rename; the document's ETag. */
  version: number;
  chunks: { live: number; deleted: number };
}

/** Fails the stream with `PAYLOAD_TOO_LARGE` once it has carried more than `limit` bytes. */
function limitBytes(stream: ReadableStream<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  let seen = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) {
          controller.error(
            new BallastError('PAYLOAD_TOO_LARGE', { details: { limitBytes: limit } }),
          );
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}

export async function buildApp(options: DocumentsAppOptions): Promise<FastifyInstance> {
  const { db, storage, records } = options;
  const maxUploadBytes = options.maxUploadBytes ?? 50 * 1024 * 1024;
  const app = Fastify({ logger: options.logger ?? false });
  const documents = sql.id('documents');
  const chunks = sql.id('document_chunks');

  /**
   * The records port `uploadThenRecord` writes through: the document row and its chunk rows in
   * one transaction. A crash or a failed chunk insert leaves neither (and the recipe deletes the
   * object), never an active document without chunks, which reconciliation cannot see.
   */
  const recordWithChunks = {
    insert: (record: Parameters<typeof records.insert>[0], context: DocumentRecordContext) =>
      db.transaction().execute(async (tx) => {
        const row = await records.withExecutor(tx).insert(record, context);
        await sql`
          INSERT INTO ${chunks} (document_id, position)
          SELECT ${row.id}::uuid, g
          FROM generate_series(1, ${chunkCount(record.object?.size ?? 0)}::int) AS g`.execute(tx);
        return row;
      }),
  };

  async function view(id: string): Promise<DocumentView | undefined> {
    const result = await sql<{
      id: string;
      name: unknown;
      status: string;
      key: string;
      size: string | number | null;
      content_type: unknown;
      version: number;
      live: number;
      deleted: number;
    }>`
      SELECT d.id::text, d.name, d.status, d.storage_key AS key, d.size, d.content_type, d.version,
             count(c.id) FILTER (WHERE c.deleted_at IS NULL)::int AS live,
             count(c.id) FILTER (WHERE c.deleted_at IS NOT NULL)::int AS deleted
      FROM ${documents} d LEFT JOIN ${chunks} c ON c.document_id = d.id
      WHERE d.id = ${id}::uuid GROUP BY d.id`.execute(db);
    const row = result.rows[0];
    if (row === undefined) return undefined;
    return {
      id: row.id,
      name: row.name,
      status: row.status,
      key: row.key,
      size: Number(row.size ?? 0),
      contentType: row.content_type,
      version: row.version,
      chunks: { live: row.live, deleted: row.deleted },
    };
  }

  async function viewOrNotFound(id: string): Promise<DocumentView> {
    const found = await view(id);
    if (found === undefined) throw new BallastError('NOT_FOUND', { message: `No document ${id}` });
    return found;
  }

  // Errors become problem+json (Fastify's schema errors with field paths, 413 as
  // PAYLOAD_TOO_LARGE); a 500 is logged with its trace id and answers a generic message.
  app.setErrorHandler(fastifyErrorHandler());
  app.setNotFoundHandler(fastifyNotFoundHandler());
  // 429 as problem+json with Retry-After and the RateLimit-* headers, rendered by the handler above.
  await app.register(rateLimit, fastifyRateLimitOptions(options.rateLimit));
  // GET /health (database and storage, each within 2 s, 503 when one is down) and GET
  // /health/live (no dependency touched) for load balancers and the clients' pings.
  await app.register(fastifyHealth, {
    checks: { db: postgresHealthCheck(db), storage: storageHealthCheck(storage) },
    timeoutMs: 2_000,
  });

  // Uploads take the raw body as a stream, whatever its content type: it goes to storage as
  // it arrives, never held in memory by the app.
  await app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    uploads.post<{ Querystring: { name?: string } }>(
      '/documents',
      {
        schema: {
          querystring: {
            type: 'object',
            properties: { name: { type: 'string', minLength: 1, maxLength: 255 } },
          },
        },
      },
      async (request, reply) => {
        const header = request.headers['content-length'];
        const contentLength = header === undefined ? undefined : Number(header);
        if (contentLength !== undefined && contentLength > maxUploadBytes) {
          throw new BallastError('PAYLOAD_TOO_LARGE', { details: { limitBytes: maxUploadBytes } });
        }
        const source =
          request.body instanceof Readable ? request.body : Readable.from(Buffer.alloc(0));
        const body = limitBytes(
          Readable.toWeb(source) as ReadableStream<Uint8Array>,
          maxUploadBytes,
        );
        const contentType = request.headers['content-type'] ?? 'application/octet-stream';
        const { row } = await uploadThenRecord<DocumentData, DocumentRow>({
          storage,
          records: recordWithChunks,
          key: `${documentPrefix}${crypto.randomUUID()}`,
          body,
          contentType,
          ...(contentLength === undefined ? {} : { contentLength }),
          record: { name: request.query.name ?? 'untitled' },
          logger: request.log,
          traceId: request.id,
        });
        reply.code(201);
        return viewOrNotFound(row.id);
      },
    );
  });

  app.get('/documents', async () => {
    const result = await sql<{ id: string }>`
      SELECT id::text FROM ${documents} WHERE status = 'active' ORDER BY created_at DESC LIMIT 100`.execute(
      db,
    );
    return Promise.all(result.rows.map((row) => viewOrNotFound(row.id)));
  });

  app.get<{ Params: { id: string } }>(
    '/documents/:id',
    { schema: { params: idParams } },
    async (request, reply) => {
      const document = await viewOrNotFound(request.params.id);
      // The version a rename must name in If-Match (PATCH /documents/:id).
      reply.header('etag', versionETag(document.version));
      return document;
    },
  );

  registerServerKitRoutes(app, {
    db,
    storage,
    clock: options.clock ?? systemClock,
    shareTtlMs: options.shareTtlMs ?? 7 * 24 * 3_600_000,
    view: viewOrNotFound,
  });

  app.get<{ Params: { id: string } }>(
    '/documents/:id/content',
    { schema: { params: idParams } },
    async (request, reply) => {
      const document = await viewOrNotFound(request.params.id);
      if (document.status !== 'active') {
        throw new BallastError('NOT_FOUND', {
          message: `Document ${document.id} is ${document.status}`,
        });
      }
      const object = await storage.get(document.key);
      // A live row without its object: reconciliation will mark it `error`.
      if (object === undefined) throw new BallastError('OBJECT_NOT_FOUND');
      reply.header('content-type', object.contentType ?? 'application/octet-stream');
      reply.header('content-length', String(object.size));
      if (object.etag !== undefined) reply.header('etag', object.etag);
      return reply.send(Readable.fromWeb(object.body as import('node:stream/web').ReadableStream));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/documents/:id',
    { schema: { params: idParams } },
    async (request, reply) => {
      await markThenDelete({
        storage,
        records,
        id: request.params.id,
        logger: request.log,
        traceId: request.id,
      });
      return reply.code(204).send();
    },
  );

  app.post<{ Querystring: { dryRun?: boolean } }>(
    '/reconcile',
    {
      schema: {
        querystring: { type: 'object', properties: { dryRun: { type: 'boolean' } } },
      },
    },
    async (request) =>
      reconcileDocuments({
        storage,
        records,
        dryRun: request.query.dryRun ?? false,
        graceMs: options.reconcileGraceMs ?? 3_600_000,
        logger: request.log,
        traceId: request.id,
      }),
  );

  return app;
}
