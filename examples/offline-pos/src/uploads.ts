/**
 * Receipts and delivery notes uploaded from the till (core's signed-upload recipe, served on
 * loopback): `POST /uploads` issues a presigned PUT for a pending row, the page PUTs the file
 * to `/storage/…` (played here by `LocalPresigner.serve` over an in-memory store, refusing a
 * tampered URL, another length, type or SHA-256 as S3 would), and `POST /uploads/confirm`
 * promotes it and makes the row active. Both API routes are idempotent, so a page replaying an
 * upload after a reload gets the same URL and the same confirmation back.
 */
import { randomBytes } from 'node:crypto';
import { expressIdempotency } from '@ballast/adapters/express';
import {
  BallastError,
  confirmUpload,
  createUploadTokens,
  issueSignedUpload,
  LocalPresigner,
  MemoryDocumentRecords,
  MemoryIdempotencyStore,
  MemoryObjectStorage,
  type ObjectStorage,
} from '@ballast/core';
import { problemResponse } from '@ballast/server';
import express, { type Express, type Request, type Response } from 'express';

/** What the tests look at and the knobs they turn. */
export interface UploadRoutes {
  objects: MemoryObjectStorage;
  records: MemoryDocumentRecords<{ name: string }>;
  /** Requests that reached each route (replays answered by the middleware excluded). */
  calls: { request: number; put: number; confirm: number };
  /** The next N PUTs get a 503 from "storage", as S3 answers when it is overloaded. */
  failPuts(count: number): void;
}

const maxBytes = 5 * 1024 * 1024;
const allowedTypes = /^(image\/(png|jpeg|webp)|application\/pdf|text\/plain)$/;

/** Answers with problem+json, as Ballast's server kit writes it (the catalogue's user message). */
async function answer(res: Response, req: Request, error: unknown) {
  const problem = problemResponse(error, { instance: req.originalUrl });
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(await problem.text());
}

/** Mounts `/uploads`, `/uploads/confirm` and `/storage/*` on `app`. */
export function mountUploads(app: Express): UploadRoutes {
  const objects = new MemoryObjectStorage();
  const records = new MemoryDocumentRecords<{ name: string }>();
  const tokens = createUploadTokens({ secret: randomBytes(32) });
  const presignSecret = randomBytes(32);
  // URLs point back at this server, on whatever host and port the page used (made per request:
  // a map keyed by the Host header would grow with every forged one).
  const presignerFor = (req: Request) =>
    new LocalPresigner({
      baseUrl: `${req.protocol}://${req.get('host')}/storage`,
      secret: presignSecret,
    });
  /** The in-memory store, with presigned PUTs on this server's `/storage`. */
  const storageFor = (req: Request): ObjectStorage => ({
    put: (key, body, options) => objects.put(key, body, options),
    get: (key, options) => objects.get(key, options),
    head: (key, options) => objects.head(key, options),
    delete: (key, options) => objects.delete(key, options),
    list: (options) => objects.list(options),
    move: (from, to, options) => objects.move(from, to, options),
    presignPut: (key, options) => presignerFor(req).presign('PUT', key, options),
    presignGet: (key, options) => presignerFor(req).presign('GET', key, options),
  });

  let failures = 0;
  const routes: UploadRoutes = {
    objects,
    records,
    calls: { request: 0, put: 0, confirm: 0 },
    failPuts(count) {
      failures = count;
    },
  };
  const idempotent = expressIdempotency({
    store: new MemoryIdempotencyStore(),
    scope: (req) => req.get('x-till-id') ?? 'global',
  });

  app.post('/uploads', idempotent, express.json({ limit: '4kb' }), async (req, res) => {
    routes.calls.request += 1;
    try {
      const { name, size, contentType, checksumSha256 } = req.body ?? {};
      if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
        throw new BallastError('VALIDATION_FAILED', { message: 'A file name is required.' });
      }
      if (!Number.isSafeInteger(size) || size < 1 || size > maxBytes) {
        throw new BallastError('PAYLOAD_TOO_LARGE', { message: 'Files up to 5 MB.' });
      }
      if (typeof contentType !== 'string' || !allowedTypes.test(contentType)) {
        throw new BallastError('VALIDATION_FAILED', {
          message: 'Images, PDFs and text files only.',
        });
      }
      if (typeof checksumSha256 !== 'string') {
        throw new BallastError('VALIDATION_FAILED', { message: 'A SHA-256 is required.' });
      }
      const issued = await issueSignedUpload({
        storage: storageFor(req),
        records,
        tokens,
        key: `receipts/${crypto.randomUUID()}`,
        record: { name },
        contentType,
        size,
        checksumSha256,
      });
      res.status(201).json({ upload: issued.upload, token: issued.token, id: issued.row.id });
    } catch (error) {
      await answer(res, req, error);
    }
  });

  app.put(/^\/storage\//, express.raw({ type: () => true, limit: maxBytes }), async (req, res) => {
    routes.calls.put += 1;
    if (failures > 0) {
      failures -= 1;
      res.status(503).type('application/xml').send('<Error><Code>SlowDown</Code></Error>');
      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const url = `${req.protocol}://${req.get('host')}${req.originalUrl}`;
    const body = Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array();
    const served = await presignerFor(req).serve(
      objects,
      new Request(url, { method: 'PUT', headers, body }),
    );
    res.status(served.status);
    served.headers.forEach((value, name) => {
      res.set(name, value);
    });
    res.send(Buffer.from(await served.arrayBuffer()));
  });

  app.post('/uploads/confirm', idempotent, express.json({ limit: '16kb' }), async (req, res) => {
    routes.calls.confirm += 1;
    try {
      const token = req.body?.token;
      if (typeof token !== 'string') {
        throw new BallastError('VALIDATION_FAILED', { message: 'The upload token is missing.' });
      }
      const { row, object } = await confirmUpload({
        token,
        tokens,
        storage: storageFor(req),
        records,
      });
      res.json({ id: row.id, name: row.data.name, status: row.status, size: object.size });
    } catch (error) {
      await answer(res, req, error);
    }
  });
  return routes;
}
