/**
 * A documents API on Fastify whose storage and database never disagree for long: uploads go
 * through `uploadThenRecord` (object first, row second, object removed if the row fails),
 * deletes through `markThenDelete` (row and chunks soft-deleted first, restored if storage
 * fails), and `POST /reconcile` repairs what crashes leave behind. The app takes its database,
 * storage and records from the caller, so the same code runs on PGlite and a directory (the
 * default, and the tests) or on Postgres and S3.
 */
import { Readable } from 'node:stream';
import { fastifyErrorHandler, fastifyNotFoundHandler } from '@ballast/adapters/fastify';
import type { DocumentRow, KyselyDocumentRecords } from '@ballast/adapters/postgres';
import {
  BallastError,
  markThenDelete,
  type ObjectStorage,
  reconcile,
  uploadThenRecord,
} from '@ballast/core';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { type Kysely, sql } from 'kysely';

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
  /** Grace period of `POST /reconcile`, ms. Default one hour. */
  readonly reconcileGraceMs?: number;
}

/** Objects live under this prefix, which reconciliation is limited to. */
export const documentPrefix = 'documents/';
/** One chunk row per this many bytes: the rows a search index would hold. */
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

  async function view(id: string): Promise<DocumentView | undefined> {
    const result = await sql<{
      id: string;
      name: unknown;
      status: string;
      key: string;
      size: string | number | null;
      content_type: unknown;
      live: number;
      deleted: number;
    }>`
      SELECT d.id::text, d.name, d.status, d.storage_key AS key, d.size, d.content_type,
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
        const { row, object } = await uploadThenRecord<DocumentData, DocumentRow>({
          storage,
          records,
          key: `${documentPrefix}${crypto.randomUUID()}`,
          body,
          contentType,
          ...(contentLength === undefined ? {} : { contentLength }),
          record: { name: request.query.name ?? 'untitled' },
          logger: request.log,
          traceId: request.id,
        });
        // "Indexing": the chunk rows a search index would hold, deleted and restored with it.
        await sql`
          INSERT INTO ${chunks} (document_id, position)
          SELECT ${row.id}::uuid, g
          FROM generate_series(1, ${Math.max(1, Math.ceil(object.size / chunkBytes))}::int) AS g`.execute(
          db,
        );
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
    async (request) => viewOrNotFound(request.params.id),
  );

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
      reconcile({
        storage,
        records,
        prefix: documentPrefix,
        dryRun: request.query.dryRun ?? false,
        graceMs: options.reconcileGraceMs ?? 3_600_000,
        logger: request.log,
        traceId: request.id,
      }),
  );

  return app;
}
