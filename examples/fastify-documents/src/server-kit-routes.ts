/**
 * The server kit on the documents API (issue #14's features, one route each):
 * - `PATCH /documents/:id` renames a document only at the version the client read (`If-Match`
 *   from the ETag of `GET /documents/:id`): 200 with the new ETag, 412 with the current version
 *   when someone renamed it first, 428 without `If-Match`. The body is checked with zod
 *   (`fastifyValidate`), beside the native JSON-schema routes of `app.ts`.
 * - `POST /documents/:id/shares` creates a share link: a row, then a public manifest object in
 *   storage; when the manifest cannot be written, the row is removed again (`compensate`).
 * - `GET /shares/:token` follows a link: 404 once revoked (`whereNotDeleted`), 410 `EXPIRED`
 *   after its expiry (`assertNotExpired`).
 * - `DELETE /shares/:token` revokes a link (`softDelete`); `POST /shares/:token/restore` undoes
 *   that (`restore`).
 */
import { fastifyValidate, type ValidatedRoute } from '@ballast/adapters/fastify';
import {
  restore,
  softDelete,
  updateWithVersion,
  whereNotDeleted,
} from '@ballast/adapters/postgres';
import {
  assertNotExpired,
  BallastError,
  type Clock,
  compensate,
  type ObjectStorage,
} from '@ballast/core';
import { versionETag, writeIfMatch } from '@ballast/server';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';

export interface ServerKitRoutesOptions {
  readonly db: Kysely<unknown>;
  readonly storage: ObjectStorage;
  readonly clock: Clock;
  /** How long a share link lives, in ms. */
  readonly shareTtlMs: number;
  /** Reads a document as the API shows it (404 when there is none). */
  readonly view: (id: string) => Promise<{ id: string; status: string; version: number }>;
}

/** Where share manifests live: outside `documents/`, so reconciliation never touches them. */
export const sharePrefix = 'shares/';

const rename = {
  params: z.object({ id: z.uuid() }),
  body: z.strictObject({ name: z.string().trim().min(1).max(255) }),
};
const documentId = { params: z.object({ id: z.uuid() }) };
const shareToken = { params: z.object({ token: z.uuid() }) };

interface ShareRow {
  token: string;
  document_id: string;
  expires_at: Date | string;
}

export function registerServerKitRoutes(app: FastifyInstance, options: ServerKitRoutesOptions) {
  const { db, storage, clock, shareTtlMs, view } = options;

  app.patch<ValidatedRoute<typeof rename>>(
    '/documents/:id',
    { preValidation: fastifyValidate(rename) },
    async (request, reply) => {
      const { id } = request.params;
      if ((await view(id)).status !== 'active') {
        throw new BallastError('NOT_FOUND', { message: `Document ${id} is not active` });
      }
      // The version check and its increment are one UPDATE: of two renames from version 1, one
      // wins and the other gets 412 with the winner's version, never a silent overwrite.
      await writeIfMatch(request.headers['if-match'], (version) =>
        updateWithVersion(
          db,
          'documents',
          { id, version },
          { name: request.body.name, updated_at: new Date(clock.now()) },
        ),
      );
      const renamed = await view(id);
      reply.header('etag', versionETag(renamed.version));
      return renamed;
    },
  );

  app.post<ValidatedRoute<typeof documentId>>(
    '/documents/:id/shares',
    { preValidation: fastifyValidate(documentId) },
    async (request, reply) => {
      const token = crypto.randomUUID();
      const expiresAt = new Date(clock.now() + shareTtlMs).toISOString();
      // Seed 000 §1's recipe: the row, then the manifest; a manifest that cannot be written must
      // not leave a link that leads nowhere, so the row is deleted and the storage error answered.
      const { first: share } = await compensate({
        name: 'create-share',
        logger: request.log,
        traceId: request.id,
        run: async () => {
          const { rows } = await sql<ShareRow>`
            INSERT INTO shares (token, document_id, expires_at)
            SELECT ${token}::uuid, id, ${expiresAt}::timestamptz FROM documents
            WHERE id = ${request.params.id}::uuid AND status = 'active'
            RETURNING token::text, document_id::text, expires_at`.execute(db);
          if (rows[0] === undefined) {
            throw new BallastError('NOT_FOUND', {
              message: `No active document ${request.params.id}`,
            });
          }
          return rows[0];
        },
        andThen: (created) =>
          storage.put(
            `${sharePrefix}${created.token}.json`,
            JSON.stringify({ document: created.document_id, expiresAt }),
            { contentType: 'application/json' },
          ),
        undo: async (created) => {
          await sql`DELETE FROM shares WHERE token = ${created.token}::uuid`.execute(db);
        },
      });
      reply.code(201).header('location', `/shares/${share.token}`);
      return { token: share.token, documentId: share.document_id, expiresAt };
    },
  );

  app.get<ValidatedRoute<typeof shareToken>>(
    '/shares/:token',
    { preValidation: fastifyValidate(shareToken) },
    async (request) => {
      const { rows } = await sql<ShareRow>`
        SELECT token::text, document_id::text, expires_at FROM shares
        WHERE token = ${request.params.token}::uuid AND ${whereNotDeleted()}`.execute(db);
      const share = rows[0];
      if (share === undefined)
        throw new BallastError('NOT_FOUND', { message: 'No such share link' });
      assertNotExpired(share.expires_at, clock);
      const document = await view(share.document_id);
      // A link outlives nothing it points at: a deleted document is gone for its links too.
      if (document.status !== 'active') {
        throw new BallastError('NOT_FOUND', { message: 'No such share link' });
      }
      return document;
    },
  );

  app.delete<ValidatedRoute<typeof shareToken>>(
    '/shares/:token',
    { preValidation: fastifyValidate(shareToken) },
    async (request, reply) => {
      await softDelete(db, 'shares', request.params.token, { idColumn: 'token', clock });
      return reply.code(204).send();
    },
  );

  app.post<ValidatedRoute<typeof shareToken>>(
    '/shares/:token/restore',
    { preValidation: fastifyValidate(shareToken) },
    async (request) => {
      const restored = await restore(db, 'shares', request.params.token, { idColumn: 'token' });
      return { token: request.params.token, restored };
    },
  );
}
