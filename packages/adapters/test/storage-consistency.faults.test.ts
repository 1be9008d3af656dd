/**
 * Fault injection at every step of every consistency recipe, on real Postgres (Kysely records
 * with chunk rows) and s3rver over HTTP (S3ObjectStorage). Each case fails one step (before it
 * takes effect, or after: done, answer lost), then checks the documented end state against the
 * rows, their chunks and the bucket's contents, then runs one reconciliation pass and checks
 * that it leaves the documents consistent.
 */
import type { DocumentRow } from '@ballast/adapters/postgres';
import {
  BallastError,
  confirmUpload,
  createUploadTokens,
  isBallastError,
  issueSignedUpload,
  ManualClock,
  markThenDelete,
  type ObjectInfo,
  type ObjectStorage,
  reconcile,
  sagaFailureOf,
  uploadInTransaction,
  uploadThenRecord,
} from '@ballast/core';
import { type FaultPlan, failOnCall, injectFaults } from '@ballast/core/testing';
import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bucketKeys,
  consistencyViolations,
  type DocumentsWorld,
  openDocumentsWorld,
  openS3World,
  type S3World,
} from './support/documents-world.js';
import { describeWith } from './support/services.js';

const storageFault = () =>
  new BallastError('STORAGE_UNAVAILABLE', {
    message: 'injected storage fault',
    details: { injectedFault: true },
  });
const databaseFault = () =>
  new BallastError('UPSTREAM_ERROR', {
    message: 'injected database fault',
    details: { injectedFault: true },
  });

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the recipe to fail');
}

describeWith('postgres', 'storage–database consistency under injected faults', () => {
  let world: DocumentsWorld;
  let s3: S3World;
  let caseNumber = 0;

  beforeAll(async () => {
    [world, s3] = await Promise.all([openDocumentsWorld('faults'), openS3World()]);
    await sql`CREATE TABLE ${sql.id(world.schema, 'commit_bomb')} (
      ref uuid REFERENCES ${sql.id(world.schema, 'documents')} (id) DEFERRABLE INITIALLY DEFERRED
    )`.execute(world.db);
  });
  afterAll(async () => {
    await Promise.all([world?.close(), s3?.close()]);
  });

  /** A prefix of its own per case, so state checks and reconciliation see only that case. */
  function freshCase() {
    const prefix = `case-${++caseNumber}/`;
    return { prefix, key: `${prefix}${crypto.randomUUID()}` };
  }

  const faultyStorage = (plan: FaultPlan) =>
    injectFaults<ObjectStorage>(s3.storage, { failOn: plan, error: storageFault });
  const faultyRecords = (plan: FaultPlan) =>
    injectFaults(world.records, { failOn: plan, error: databaseFault });

  async function state(prefix: string) {
    const [documents, keys] = await Promise.all([
      world.documents(prefix),
      bucketKeys(s3.storage, prefix),
    ]);
    return { documents, keys };
  }

  /** One reconciliation pass over the case's prefix, grace 0; then the case must be consistent. */
  async function reconcileCase(prefix: string, clock?: ManualClock) {
    const report = await reconcile({
      storage: s3.storage,
      records: world.records,
      prefix,
      graceMs: 0,
      ...(clock === undefined ? {} : { clock }),
    });
    const after = await state(prefix);
    expect(consistencyViolations(after.documents, after.keys)).toEqual([]);
    expect(report.failed).toBe(0);
    return { report, after };
  }

  async function uploadedDocument(prefix: string) {
    const key = `${prefix}${crypto.randomUUID()}`;
    const { row } = await uploadThenRecord({
      storage: s3.storage,
      records: world.records,
      key,
      body: 'document body',
      record: { name: 'doc.txt' },
    });
    await world.addChunks(row.id, 3);
    // One chunk deleted long before: a restore must leave it deleted.
    await sql`UPDATE ${sql.id(world.schema, 'document_chunks')} SET deleted_at = now() - interval '1 day'
              WHERE id = (SELECT id FROM ${sql.id(world.schema, 'document_chunks')}
                          WHERE document_id = ${row.id}::uuid LIMIT 1)`.execute(world.db);
    await world.addChunks(row.id, 1);
    return { row, key };
  }

  describe('uploadThenRecord', () => {
    const upload = (key: string, storage: ObjectStorage, records = world.records) =>
      uploadThenRecord({ storage, records, key, body: 'hello', record: { name: 'a.txt' } });

    it('storage put fails: no object, no row', async () => {
      const { prefix, key } = freshCase();
      const error = await failureOf(upload(key, faultyStorage(failOnCall('put'))));
      expect(isBallastError(error, 'STORAGE_UNAVAILABLE')).toBe(true);
      expect(await state(prefix)).toEqual({ documents: [], keys: [] });
    });

    it('storage put fails after storing (answer lost): an orphan object, which reconciliation deletes', async () => {
      const { prefix, key } = freshCase();
      const error = await failureOf(upload(key, faultyStorage(failOnCall('put', 1, 'after'))));
      expect(isBallastError(error, 'STORAGE_UNAVAILABLE')).toBe(true);
      expect(await state(prefix)).toEqual({ documents: [], keys: [key] });
      const { report, after } = await reconcileCase(prefix);
      expect(report.repaired.orphanObject).toBe(1);
      expect(after.keys).toEqual([]);
    });

    it('DB insert fails: the object is deleted again, the insert’s error propagates', async () => {
      const { prefix, key } = freshCase();
      const error = await failureOf(upload(key, s3.storage, faultyRecords(failOnCall('insert'))));
      expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
      expect(sagaFailureOf(error)).toMatchObject({
        failedStep: 'row',
        compensated: ['object'],
        compensationFailures: [],
      });
      expect(await state(prefix)).toEqual({ documents: [], keys: [] });
    });

    it('DB insert fails after inserting (answer lost): a row without object, which reconciliation marks error', async () => {
      const { prefix, key } = freshCase();
      await failureOf(upload(key, s3.storage, faultyRecords(failOnCall('insert', 1, 'after'))));
      const before = await state(prefix);
      expect(before.keys).toEqual([]);
      expect(before.documents).toMatchObject([{ key, status: 'active' }]);
      const { report, after } = await reconcileCase(prefix);
      expect(report.repaired.missingObject).toBe(1);
      expect(after.documents).toMatchObject([{ key, status: 'error' }]);
    });

    it('DB insert fails and the rollback delete fails: the original error, an orphan for reconciliation', async () => {
      const { prefix, key } = freshCase();
      const error = await failureOf(
        upload(key, faultyStorage(failOnCall('delete')), faultyRecords(failOnCall('insert'))),
      );
      expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
      const failure = sagaFailureOf(error);
      expect(failure?.compensationFailures).toHaveLength(1);
      expect(failure?.compensationFailures[0]).toMatchObject({ step: 'object', critical: false });
      expect(isBallastError(failure?.compensationFailures[0]?.error, 'STORAGE_UNAVAILABLE')).toBe(
        true,
      );
      expect(await state(prefix)).toEqual({ documents: [], keys: [key] });
      const { report, after } = await reconcileCase(prefix);
      expect(report.repaired.orphanObject).toBe(1);
      expect(after).toEqual({ documents: [], keys: [] });
    });
  });

  describe('markThenDelete', () => {
    const remove = (
      id: string,
      storage: ObjectStorage = s3.storage,
      records: Parameters<typeof markThenDelete>[0]['records'] = world.records,
    ) => markThenDelete({ storage, records, id });

    it('succeeds: row and live chunks deleted, object gone, the old deleted chunk untouched', async () => {
      const { prefix } = freshCase();
      const { row } = await uploadedDocument(prefix);
      await remove(row.id);
      expect(await state(prefix)).toEqual({
        documents: [
          { id: row.id, key: row.key, status: 'deleted', liveChunks: 0, deletedChunks: 4 },
        ],
        keys: [],
      });
    });

    it('soft delete fails: nothing changes', async () => {
      const { prefix } = freshCase();
      const { row, key } = await uploadedDocument(prefix);
      const error = await failureOf(
        remove(row.id, s3.storage, faultyRecords(failOnCall('softDelete'))),
      );
      expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
      expect(await state(prefix)).toEqual({
        documents: [{ id: row.id, key, status: 'active', liveChunks: 3, deletedChunks: 1 }],
        keys: [key],
      });
      const { report } = await reconcileCase(prefix);
      expect(report.found).toEqual({
        missingObject: 0,
        deletedRowObject: 0,
        orphanObject: 0,
        expiredUpload: 0,
      });
    });

    it('soft delete fails after deleting (answer lost): a deleted row keeps its object until reconciliation', async () => {
      const { prefix } = freshCase();
      const { row, key } = await uploadedDocument(prefix);
      await failureOf(
        remove(row.id, s3.storage, faultyRecords(failOnCall('softDelete', 1, 'after'))),
      );
      expect(await state(prefix)).toEqual({
        documents: [{ id: row.id, key, status: 'deleted', liveChunks: 0, deletedChunks: 4 }],
        keys: [key],
      });
      const { report, after } = await reconcileCase(prefix);
      expect(report.repaired.deletedRowObject).toBe(1);
      expect(after.keys).toEqual([]);
    });

    it('storage delete fails: row and exactly its chunks restored, object kept, storage’s error propagates', async () => {
      const { prefix } = freshCase();
      const { row, key } = await uploadedDocument(prefix);
      const error = await failureOf(remove(row.id, faultyStorage(failOnCall('delete'))));
      expect(isBallastError(error, 'STORAGE_UNAVAILABLE')).toBe(true);
      expect(sagaFailureOf(error)).toMatchObject({ failedStep: 'object', compensated: ['row'] });
      expect(await state(prefix)).toEqual({
        documents: [{ id: row.id, key, status: 'active', liveChunks: 3, deletedChunks: 1 }],
        keys: [key],
      });
    });

    it('storage delete fails after deleting (answer lost): restored row without object, which reconciliation marks error', async () => {
      const { prefix } = freshCase();
      const { row, key } = await uploadedDocument(prefix);
      await failureOf(remove(row.id, faultyStorage(failOnCall('delete', 1, 'after'))));
      expect(await state(prefix)).toEqual({
        documents: [{ id: row.id, key, status: 'active', liveChunks: 3, deletedChunks: 1 }],
        keys: [],
      });
      const { report, after } = await reconcileCase(prefix);
      expect(report.repaired.missingObject).toBe(1);
      expect(after.documents).toEqual([
        { id: row.id, key, status: 'error', liveChunks: 0, deletedChunks: 4 },
      ]);
    });

    it('storage delete and restore both fail: COMPENSATION_FAILED, deleted row keeps its object until reconciliation', async () => {
      const { prefix } = freshCase();
      const { row, key } = await uploadedDocument(prefix);
      const error = await failureOf(
        remove(row.id, faultyStorage(failOnCall('delete')), faultyRecords(failOnCall('restore'))),
      );
      expect(isBallastError(error, 'COMPENSATION_FAILED')).toBe(true);
      expect(await state(prefix)).toEqual({
        documents: [{ id: row.id, key, status: 'deleted', liveChunks: 0, deletedChunks: 4 }],
        keys: [key],
      });
      const { report, after } = await reconcileCase(prefix);
      expect(report.repaired.deletedRowObject).toBe(1);
      expect(after.keys).toEqual([]);
    });

    it('restore fails after restoring (answer lost): COMPENSATION_FAILED, yet the document is whole', async () => {
      const { prefix } = freshCase();
      const { row, key } = await uploadedDocument(prefix);
      const error = await failureOf(
        remove(
          row.id,
          faultyStorage(failOnCall('delete')),
          faultyRecords(failOnCall('restore', 1, 'after')),
        ),
      );
      expect(isBallastError(error, 'COMPENSATION_FAILED')).toBe(true);
      expect(await state(prefix)).toEqual({
        documents: [{ id: row.id, key, status: 'active', liveChunks: 3, deletedChunks: 1 }],
        keys: [key],
      });
      await reconcileCase(prefix);
    });

    it('an unknown or already deleted document: NOT_FOUND, nothing changes', async () => {
      const { prefix } = freshCase();
      const { row, key } = await uploadedDocument(prefix);
      await remove(row.id);
      const error = await failureOf(remove(row.id));
      expect(isBallastError(error, 'NOT_FOUND')).toBe(true);
      expect((await state(prefix)).keys).toEqual([]);
      expect(key.startsWith(prefix)).toBe(true);
    });
  });

  describe('uploadInTransaction (seed 004)', () => {
    type Tx = Transaction<unknown>;
    const run = (
      key: string,
      options: {
        storage?: ObjectStorage;
        write?: (tx: Tx, object: ObjectInfo) => Promise<DocumentRow>;
        bombCommit?: boolean;
      } = {},
    ) => {
      const helpers = world.records.transactional(world.db, { name: 'cover.png' });
      return uploadInTransaction<Tx, DocumentRow>({
        storage: options.storage ?? s3.storage,
        key,
        body: 'png bytes',
        contentType: 'image/png',
        transaction: (work) =>
          world.db.transaction().execute(async (tx) => {
            const row = await work(tx);
            // A deferred foreign key that fails at COMMIT: a real commit failure.
            if (options.bombCommit) {
              await sql`INSERT INTO ${sql.id(world.schema, 'commit_bomb')} VALUES (gen_random_uuid())`.execute(
                tx,
              );
            }
            return row;
          }),
        write: options.write ?? helpers.write,
      });
    };

    it('succeeds: row committed, object stored', async () => {
      const { prefix, key } = freshCase();
      await run(key);
      const after = await state(prefix);
      expect(after.keys).toEqual([key]);
      expect(after.documents).toMatchObject([{ key, status: 'active' }]);
    });

    it('storage put fails: rolled back, nothing stored', async () => {
      const { prefix, key } = freshCase();
      const error = await failureOf(run(key, { storage: faultyStorage(failOnCall('put')) }));
      expect(isBallastError(error, 'STORAGE_UNAVAILABLE')).toBe(true);
      expect(await state(prefix)).toEqual({ documents: [], keys: [] });
    });

    it('the write fails: rolled back, object deleted', async () => {
      const { prefix, key } = freshCase();
      const error = await failureOf(
        run(key, {
          write: async () => {
            throw databaseFault();
          },
        }),
      );
      expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
      expect(await state(prefix)).toEqual({ documents: [], keys: [] });
    });

    it('COMMIT fails: rolled back, object deleted, the commit’s error propagates', async () => {
      const { prefix, key } = freshCase();
      const error = await failureOf(run(key, { bombCommit: true }));
      expect((error as { code?: string }).code).toBe('23503');
      expect(sagaFailureOf(error)).toMatchObject({ failedStep: 'commit', compensated: ['object'] });
      expect(await state(prefix)).toEqual({ documents: [], keys: [] });
    });

    it('the write fails and the cleanup delete fails: an orphan for reconciliation', async () => {
      const { prefix, key } = freshCase();
      const error = await failureOf(
        run(key, {
          storage: faultyStorage(failOnCall('delete')),
          write: async () => {
            throw databaseFault();
          },
        }),
      );
      expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
      expect(await state(prefix)).toEqual({ documents: [], keys: [key] });
      const { report } = await reconcileCase(prefix);
      expect(report.repaired.orphanObject).toBe(1);
    });

    it('COMMIT fails and the cleanup delete fails: an orphan for reconciliation', async () => {
      const { prefix, key } = freshCase();
      const error = await failureOf(
        run(key, { storage: faultyStorage(failOnCall('delete')), bombCommit: true }),
      );
      expect(sagaFailureOf(error)?.compensationFailures).toHaveLength(1);
      expect(await state(prefix)).toEqual({ documents: [], keys: [key] });
      const { report } = await reconcileCase(prefix);
      expect(report.repaired.orphanObject).toBe(1);
    });
  });

  describe('signed uploads (seed 000 §2)', () => {
    const tokens = createUploadTokens({ secret: 'a-test-secret-of-at-least-32-characters!' });

    async function issue(
      prefix: string,
      records = world.records,
      storage: ObjectStorage = s3.storage,
    ) {
      return issueSignedUpload({
        storage,
        records,
        tokens,
        key: `${prefix}${crypto.randomUUID()}`,
        record: { name: 'scan.pdf' },
        contentType: 'application/pdf',
        size: 9,
        expiresInSeconds: 60,
        confirmWithinSeconds: 0,
      });
    }

    async function clientUploads(upload: { url: string; headers: Record<string, string> }) {
      const response = await fetch(upload.url, {
        method: 'PUT',
        headers: upload.headers,
        body: '%PDF-fake',
      });
      expect(response.status).toBe(200);
    }

    it('the pending insert fails: no row, no URL, no object', async () => {
      const { prefix } = freshCase();
      const error = await failureOf(issue(prefix, faultyRecords(failOnCall('insert'))));
      expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
      expect(await state(prefix)).toEqual({ documents: [], keys: [] });
    });

    it('presigning fails: the pending row is expired again', async () => {
      const { prefix } = freshCase();
      const error = await failureOf(
        issue(prefix, world.records, faultyStorage(failOnCall('presignPut'))),
      );
      expect(isBallastError(error, 'STORAGE_UNAVAILABLE')).toBe(true);
      expect((await state(prefix)).documents).toMatchObject([{ status: 'deleted' }]);
    });

    it('uploaded and confirmed: active row with the object', async () => {
      const { prefix } = freshCase();
      const issued = await issue(prefix);
      await clientUploads(issued.upload);
      const { row } = await confirmUpload({
        token: issued.token,
        tokens,
        storage: s3.storage,
        records: world.records,
      });
      expect(row.status).toBe('active');
      expect(
        consistencyViolations((await state(prefix)).documents, (await state(prefix)).keys),
      ).toEqual([]);
    });

    it('the confirmation’s DB update fails: still pending; a retried confirmation succeeds', async () => {
      const { prefix } = freshCase();
      const issued = await issue(prefix);
      await clientUploads(issued.upload);
      const error = await failureOf(
        confirmUpload({
          token: issued.token,
          tokens,
          storage: s3.storage,
          records: faultyRecords(failOnCall('markUploaded')),
        }),
      );
      expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
      expect((await state(prefix)).documents).toMatchObject([{ status: 'pending' }]);
      await confirmUpload({
        token: issued.token,
        tokens,
        storage: s3.storage,
        records: world.records,
      });
      expect((await state(prefix)).documents).toMatchObject([{ status: 'active' }]);
    });

    it('never confirmed: after the deadline reconciliation expires the row and deletes the object', async () => {
      const { prefix } = freshCase();
      const uploaded = await issue(prefix);
      await clientUploads(uploaded.upload);
      const abandoned = await issue(prefix); // never uploaded at all
      expect((await state(prefix)).keys).toHaveLength(1);
      const late = new ManualClock(Math.max(uploaded.confirmBy, abandoned.confirmBy) + 1);
      const { report, after } = await reconcileCase(prefix, late);
      expect(report.repaired.expiredUpload).toBe(2);
      expect(after.keys).toEqual([]);
      expect(after.documents.map((d) => d.status)).toEqual(['deleted', 'deleted']);
    });
  });
});
