/**
 * The example app in process, on PGlite and a temporary directory: upload, read, download and
 * delete keep rows, chunks and files in step; a failing storage delete leaves the document as it
 * was; reconciliation finds and repairs what a crash left; errors are problem+json.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { failOnCall } from '@ballast/core/testing';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { openTestEnvironment, type TestEnvironment } from './test-environment.js';

let env: TestEnvironment;
let directory: string;
let db: Kysely<unknown>;
let storage: TestEnvironment['storage'];
let app: FastifyInstance;

beforeAll(async () => {
  env = await openTestEnvironment('fastify-documents');
  ({ directory, db, storage } = env);
  app = await buildApp({
    db,
    storage,
    records: env.records,
    maxUploadBytes: 1024 * 1024,
    reconcileGraceMs: 0,
  });
});

afterAll(async () => {
  await app?.close();
  await env?.close();
});

async function upload(body: string | Buffer, name = 'notes.txt') {
  const response = await app.inject({
    method: 'POST',
    url: `/documents?name=${encodeURIComponent(name)}`,
    headers: { 'content-type': 'text/plain' },
    payload: body,
  });
  expect(response.statusCode).toBe(201);
  return response.json<{ id: string; key: string; status: string; size: number }>();
}

async function storedKeys(): Promise<string[]> {
  return (await storage.list({ prefix: 'documents/' })).objects.map((object) => object.key);
}

describe('fastify-documents', () => {
  it('uploads a raw body as a stream, records it with its chunks, and serves it back', async () => {
    const body = Buffer.alloc(150_000, 'a');
    const document = await upload(body, 'big.txt');
    expect(document).toMatchObject({
      name: 'big.txt',
      status: 'active',
      size: 150_000,
      contentType: 'text/plain',
      chunks: { live: 3, deleted: 0 },
    });
    expect(await storedKeys()).toContain(document.key);

    const read = await app.inject({ url: `/documents/${document.id}` });
    expect(read.json()).toEqual(document);
    const download = await app.inject({ url: `/documents/${document.id}/content` });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('text/plain');
    expect(download.rawPayload.equals(body)).toBe(true);
    const listed = await app.inject({ url: '/documents' });
    expect(listed.json<Array<{ id: string }>>().map((d) => d.id)).toContain(document.id);
  });

  it('deletes the row, its chunks and its file', async () => {
    const document = await upload('to be deleted');
    const removed = await app.inject({ method: 'DELETE', url: `/documents/${document.id}` });
    expect(removed.statusCode).toBe(204);
    expect((await app.inject({ url: `/documents/${document.id}` })).json()).toMatchObject({
      status: 'deleted',
      chunks: { live: 0, deleted: 1 },
    });
    expect(await storedKeys()).not.toContain(document.key);
    const again = await app.inject({ method: 'DELETE', url: `/documents/${document.id}` });
    expect(again.statusCode).toBe(404);
    expect(again.headers['content-type']).toBe('application/problem+json');
    expect(again.json()).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('keeps the document whole when storage fails to delete its file', async () => {
    const document = await upload('survivor');
    storage.faults.setFailOn(failOnCall('delete', storage.faults.calls('delete') + 1));
    const failed = await app.inject({ method: 'DELETE', url: `/documents/${document.id}` });
    storage.faults.setFailOn(undefined);
    expect(failed.statusCode).toBe(502);
    expect(failed.json()).toMatchObject({ code: 'UPSTREAM_ERROR', retryable: true });
    expect((await app.inject({ url: `/documents/${document.id}` })).json()).toMatchObject({
      status: 'active',
      chunks: { live: 1, deleted: 0 },
    });
    expect(await storedKeys()).toContain(document.key);
  });

  it('reconciles: finds an orphan file and a row whose file vanished, then repairs both', async () => {
    const lost = await upload('this file will vanish');
    await storage.delete(lost.key);
    await storage.put('documents/orphan-from-a-crash', 'nobody points at me');

    const dryRun = await app.inject({ method: 'POST', url: '/reconcile?dryRun=true' });
    expect(dryRun.json()).toMatchObject({
      dryRun: true,
      found: { missingObject: 1, orphanObject: 1 },
      repaired: { missingObject: 0, orphanObject: 0 },
    });
    expect(await storedKeys()).toContain('documents/orphan-from-a-crash');

    const run = await app.inject({ method: 'POST', url: '/reconcile' });
    expect(run.json()).toMatchObject({
      failed: 0,
      repaired: { missingObject: 1, orphanObject: 1, deletedRowObject: 0 },
    });
    expect(await storedKeys()).not.toContain('documents/orphan-from-a-crash');
    expect((await app.inject({ url: `/documents/${lost.id}` })).json()).toMatchObject({
      status: 'error',
      chunks: { live: 0 },
    });
    const second = await app.inject({ method: 'POST', url: '/reconcile' });
    expect(second.json()).toMatchObject({
      found: { missingObject: 0, orphanObject: 0, deletedRowObject: 0, expiredUpload: 0 },
    });
  });

  it('commits a document and its chunks together: a failed chunk insert leaves neither, nor the file', async () => {
    const before = await storedKeys();
    const count = async () =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM documents`.execute(db)).rows[0]!.n;
    const rows = await count();
    // The chunk insert fails after the document row was written (what a crash between the two
    // statements looked like before they shared a transaction).
    await sql`ALTER TABLE document_chunks RENAME TO document_chunks_away`.execute(db);
    try {
      const failed = await app.inject({
        method: 'POST',
        url: '/documents?name=half.txt',
        headers: { 'content-type': 'text/plain' },
        payload: 'never half recorded',
      });
      expect(failed.statusCode).toBe(500);
    } finally {
      await sql`ALTER TABLE document_chunks_away RENAME TO document_chunks`.execute(db);
    }
    expect(await count()).toBe(rows);
    expect(await storedKeys()).toEqual(before);
    const orphaned = await sql`
      SELECT d.id FROM documents d
      WHERE d.status = 'active'
        AND NOT EXISTS (SELECT 1 FROM document_chunks c WHERE c.document_id = d.id)`.execute(db);
    expect(orphaned.rows).toEqual([]);
  });

  it('reconciliation removes temporary files of interrupted writes older than the grace period', async () => {
    const temp = join(directory, '.ballast-tmp');
    await mkdir(temp, { recursive: true });
    await writeFile(join(temp, 'killed-mid-upload'), 'half an object');
    const run = await app.inject({ method: 'POST', url: '/reconcile' });
    // The app under test runs with a grace of 0 ms; the server's default is one hour.
    expect(run.json()).toMatchObject({ temporaryFilesRemoved: 1 });
    expect(await readdir(temp)).toEqual([]);
  });

  it('answers problem+json for bad ids, unknown routes and oversized uploads', async () => {
    const badId = await app.inject({ url: '/documents/not-a-uuid' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    const missing = await app.inject({ url: `/documents/${crypto.randomUUID()}` });
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    const route = await app.inject({ url: '/nothing-here' });
    expect(route.json()).toMatchObject({ code: 'NOT_FOUND' });
    const before = await storedKeys();
    const tooBig = await app.inject({
      method: 'POST',
      url: '/documents',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(1024 * 1024 + 1),
    });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await storedKeys()).toEqual(before);
  });
});
