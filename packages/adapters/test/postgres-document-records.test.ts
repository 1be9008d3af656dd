/**
 * KyselyDocumentRecords on a Postgres server and on PGlite: every port method, the atomicity
 * and exactness of soft delete and restore with chunks, keyset listing in S3's key order, one
 * statement per call, user-named tables and statuses, and the transactional helper.
 */
import {
  documentsMigrationSql,
  KyselyDocumentRecords,
  migrateDocuments,
} from '@ballast/adapters/postgres';
import {
  type DocumentRecordContext,
  isBallastError,
  MemoryObjectStorage,
  uploadInTransaction,
} from '@ballast/core';
import { compareObjectKeys } from '@ballast/core/adapter-kit';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPGlite } from './support/fresh-pglite.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

interface Counted {
  readonly db: Kysely<unknown>;
  readonly counter: { statements: number };
}

function countingKysely(dialect: PostgresDialect | PGliteDialect): Counted {
  const counter = { statements: 0 };
  const db = new Kysely<unknown>({
    dialect,
    log: (event) => {
      if (event.level === 'query') counter.statements++;
    },
  });
  return { db, counter };
}

const t0 = Date.UTC(2026, 0, 1);
const ctx = (now = t0): DocumentRecordContext => ({ traceId: 'test', now });

function describeDocumentRecords(backend: string, open: () => Counted, concurrent: boolean) {
  describe(`KyselyDocumentRecords on ${backend}`, () => {
    const schema = uniqueSchemaName('docs');
    const { db, counter } = open();
    const records = new KyselyDocumentRecords<{ name: string }>({ db, schema });
    const documents = sql.id(schema, 'documents');
    const chunks = sql.id(schema, 'document_chunks');

    beforeAll(async () => {
      await migrateDocuments(db, { schema });
      // A second run is a no-op.
      await migrateDocuments(db, { schema });
    });
    afterAll(async () => {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    });

    async function addChunks(documentId: string, count: number, deletedAt: Date | null = null) {
      await sql`
        INSERT INTO ${chunks} (document_id, position, deleted_at)
        SELECT ${documentId}::uuid, g, ${deletedAt} FROM generate_series(1, ${count}::int) AS g`.execute(
        db,
      );
    }

    async function chunkStates(documentId: string) {
      const result = await sql<{ live: number; deleted: number }>`
        SELECT count(*) FILTER (WHERE deleted_at IS NULL)::int AS live,
               count(*) FILTER (WHERE deleted_at IS NOT NULL)::int AS deleted
        FROM ${chunks} WHERE document_id = ${documentId}::uuid`.execute(db);
      return result.rows[0];
    }

    async function rowOf(id: string) {
      const result = await sql<Record<string, unknown>>`
        SELECT * FROM ${documents} WHERE id = ${id}::uuid`.execute(db);
      return result.rows[0];
    }

    const object = (key: string) => ({
      key,
      size: 42,
      etag: '"abc"',
      lastModified: t0,
      contentType: 'application/pdf',
      checksumSha256: 'oQA/fQSkEVcR0LSKLq8TWc5WXS0qb9ZQmN/P+t7u9Z8=',
    });

    it('inserts an active row with the object metadata and the caller’s columns, in one statement', async () => {
      counter.statements = 0;
      const row = await records.insert(
        { key: 'ins/a', status: 'active', data: { name: 'deed.pdf' }, object: object('ins/a') },
        ctx(),
      );
      expect(counter.statements).toBe(1);
      expect(row).toMatchObject({ key: 'ins/a', status: 'active', updatedAt: t0 });
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.columns).toMatchObject({
        name: 'deed.pdf',
        etag: '"abc"',
        content_type: 'application/pdf',
        checksum_sha256: 'oQA/fQSkEVcR0LSKLq8TWc5WXS0qb9ZQmN/P+t7u9Z8=',
        deleted_at: null,
        expires_at: null,
      });
      expect(Number(row.columns.size)).toBe(42);
    });

    it('refuses record data that would set any column the records manage, with a 400', async () => {
      const sneaky = new KyselyDocumentRecords<Record<string, unknown>>({ db, schema });
      const managed = {
        status: 'active',
        error_reason: 'planted',
        deleted_at: null,
        etag: '"forged"',
        size: 1,
        id: '00000000-0000-4000-8000-000000000000',
        created_at: new Date(0),
      };
      for (const [column, value] of Object.entries(managed)) {
        // A pending row sets no etag, size or deleted_at itself: refused all the same.
        const data = { name: 'x', [column]: value };
        await expect(
          sneaky.insert({ key: `ins/${column}`, status: 'pending', data, expiresAt: t0 }, ctx()),
        ).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
          status: 400,
          details: { field: `record.${column}` },
        });
      }
      const { rows } =
        await sql`SELECT 1 FROM ${documents} WHERE storage_key LIKE 'ins/%' AND storage_key <> 'ins/a'`.execute(
          db,
        );
      expect(rows).toEqual([]);
    });

    it('soft-deletes a row and its live chunks atomically, and restores exactly what it changed', async () => {
      const row = await records.insert(
        { key: 'del/a', status: 'active', data: { name: 'a' } },
        ctx(),
      );
      await addChunks(row.id, 5);
      await addChunks(row.id, 2, new Date(t0 - 1000)); // deleted before: must stay deleted

      counter.statements = 0;
      const deleted = await records.softDelete(row.id, ctx(t0 + 5_000));
      expect(counter.statements).toBe(1);
      expect(deleted?.key).toBe('del/a');
      expect(await rowOf(row.id)).toMatchObject({ status: 'deleted' });
      expect((await rowOf(row.id))?.deleted_at).toEqual(new Date(t0 + 5_000));
      expect(await chunkStates(row.id)).toEqual({ live: 0, deleted: 7 });

      counter.statements = 0;
      await records.restore(deleted?.restoreToken, ctx(t0 + 6_000));
      expect(counter.statements).toBe(1);
      const restored = await rowOf(row.id);
      expect(restored).toMatchObject({ status: 'active', deleted_at: null });
      expect(restored?.updated_at).toEqual(new Date(t0));
      expect(await chunkStates(row.id)).toEqual({ live: 5, deleted: 2 });

      // A repeated restore (a compensation retried) changes nothing and does not throw.
      await records.restore(deleted?.restoreToken, ctx(t0 + 7_000));
      expect(await chunkStates(row.id)).toEqual({ live: 5, deleted: 2 });
    });

    it('soft-deletes an error row too, and restores it to error', async () => {
      const row = await records.insert(
        { key: 'del/e', status: 'active', data: { name: 'e' } },
        ctx(),
      );
      expect(await records.markError(row.id, 'lost', ctx())).toBe(true);
      const deleted = await records.softDelete(row.id, ctx());
      expect(deleted).toBeDefined();
      await records.restore(deleted?.restoreToken, ctx());
      expect(await rowOf(row.id)).toMatchObject({ status: 'error' });
    });

    it('does not soft-delete a missing, deleted or pending row', async () => {
      expect(await records.softDelete(crypto.randomUUID(), ctx())).toBeUndefined();
      const pending = await records.insert(
        { key: 'del/p', status: 'pending', data: { name: 'p' }, expiresAt: t0 + 60_000 },
        ctx(),
      );
      expect(await records.softDelete(pending.id, ctx())).toBeUndefined();
      const row = await records.insert(
        { key: 'del/b', status: 'active', data: { name: 'b' } },
        ctx(),
      );
      expect(await records.softDelete(row.id, ctx())).toBeDefined();
      expect(await records.softDelete(row.id, ctx())).toBeUndefined();
    });

    it('answers an id or record data the table cannot hold with a 400, never a driver error', async () => {
      // DELETE /documents/:id hands markThenDelete() whatever the URL held; record data is often
      // an upload's file name. Postgres refuses both (SQLSTATE class 22): the client's mistake.
      for (const id of [
        'not-a-uuid',
        "1'; DROP TABLE documents; --",
        'a\u0000b',
        'x'.repeat(5000),
      ]) {
        for (const call of [
          () => records.softDelete(id, ctx()),
          () => records.markError(id, 'missing', ctx()),
          () => records.expirePending(id, ctx()),
          () =>
            records.markUploaded(id, { key: 'k', size: 1, etag: '"e"', lastModified: t0 }, ctx()),
        ]) {
          await expect(call()).rejects.toMatchObject({
            code: 'VALIDATION_FAILED',
            status: 400,
            details: { field: 'id' },
          });
        }
      }
      await expect(
        records.insert(
          { key: 'ins/nul', status: 'active', data: { name: 'scan\u0000.pdf' } },
          ctx(),
        ),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        status: 400,
        details: { field: 'record' },
      });
      const { rows } = await sql`SELECT 1 FROM ${documents} WHERE storage_key = 'ins/nul'`.execute(
        db,
      );
      expect(rows).toEqual([]);
    });

    it('rejects a foreign restore token, and a restore of a row that is gone', async () => {
      await expect(records.restore({ id: 'x' }, ctx())).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
      });
      const row = await records.insert(
        { key: 'del/g', status: 'active', data: { name: 'g' } },
        ctx(),
      );
      const deleted = await records.softDelete(row.id, ctx());
      await sql`DELETE FROM ${documents} WHERE id = ${row.id}::uuid`.execute(db);
      await expect(records.restore(deleted?.restoreToken, ctx())).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('marks an active row error with its reason and retires its chunks; anything else is left', async () => {
      const row = await records.insert(
        { key: 'err/a', status: 'active', data: { name: 'a' } },
        ctx(),
      );
      await addChunks(row.id, 3);
      counter.statements = 0;
      expect(await records.markError(row.id, 'object missing in storage', ctx(t0 + 1))).toBe(true);
      expect(counter.statements).toBe(1);
      expect(await rowOf(row.id)).toMatchObject({
        status: 'error',
        error_reason: 'object missing in storage',
      });
      expect(await chunkStates(row.id)).toEqual({ live: 0, deleted: 3 });
      expect(await records.markError(row.id, 'again', ctx())).toBe(false);
      expect(await records.markError(crypto.randomUUID(), 'none', ctx())).toBe(false);
    });

    it('moves a pending row to active with its object, answers a repeat with the row, and nothing else', async () => {
      const pending = await records.insert(
        { key: 'up/a', status: 'pending', data: { name: 'a' }, expiresAt: t0 + 60_000 },
        ctx(),
      );
      expect(pending).toMatchObject({ status: 'pending', expiresAt: t0 + 60_000 });
      counter.statements = 0;
      const active = await records.markUploaded(pending.id, object('up/a'), ctx(t0 + 10));
      expect(counter.statements).toBe(1);
      expect(active).toMatchObject({ id: pending.id, status: 'active', updatedAt: t0 + 10 });
      expect(active?.expiresAt).toBeUndefined();
      expect(active?.columns).toMatchObject({ etag: '"abc"', content_type: 'application/pdf' });
      const again = await records.markUploaded(pending.id, object('up/a'), ctx(t0 + 20));
      expect(again).toMatchObject({ id: pending.id, status: 'active', updatedAt: t0 + 10 });
      expect(await records.markUploaded(pending.id, object('up/other'), ctx())).toBeUndefined();

      const expired = await records.insert(
        { key: 'up/b', status: 'pending', data: { name: 'b' }, expiresAt: t0 },
        ctx(),
      );
      expect(await records.expirePending(expired.id, ctx())).toBe(true);
      expect(await records.markUploaded(expired.id, object('up/b'), ctx())).toBeUndefined();
    });

    it('expires a pending row once; a confirmed row is not expired', async () => {
      const pending = await records.insert(
        { key: 'exp/a', status: 'pending', data: { name: 'a' }, expiresAt: t0 },
        ctx(),
      );
      expect(await records.expirePending(pending.id, ctx(t0 + 1))).toBe(true);
      expect(await rowOf(pending.id)).toMatchObject({ status: 'deleted' });
      expect(await records.expirePending(pending.id, ctx())).toBe(false);
      const confirmed = await records.insert(
        { key: 'exp/b', status: 'pending', data: { name: 'b' }, expiresAt: t0 },
        ctx(),
      );
      await records.markUploaded(confirmed.id, object('exp/b'), ctx());
      expect(await records.expirePending(confirmed.id, ctx())).toBe(false);
    });

    it('lists rows in (key, id) order with UTF-8 byte order on keys, one statement per page', async () => {
      const keys = ['ls/a-1', 'ls/a/2', 'ls/a0', 'ls/b', 'ls/é', 'ls/\uff61', 'ls/😀', 'ls/b'];
      const ids: string[] = [];
      for (const key of keys) {
        ids.push((await records.insert({ key, status: 'active', data: { name: key } }, ctx())).id);
      }
      await records.insert({ key: 'lt/outside', status: 'active', data: { name: 'x' } }, ctx());
      await records.insert({ key: 'ls', status: 'active', data: { name: 'x' } }, ctx());

      const seen: Array<{ key: string; id: string }> = [];
      let after: { key: string; id: string } | undefined;
      let pages = 0;
      counter.statements = 0;
      for (;;) {
        const page = await records.listByKey({ prefix: 'ls/', limit: 3, after }, ctx());
        pages++;
        seen.push(...page.map((row) => ({ key: row.key, id: row.id })));
        const last = page.at(-1);
        if (page.length < 3 || last === undefined) break;
        after = { key: last.key, id: last.id };
      }
      expect(counter.statements).toBe(pages);
      expect(pages).toBe(3);
      const sortedKeys = [...keys].sort(compareObjectKeys);
      expect(seen.map((row) => row.key)).toEqual(sortedKeys);
      // The two rows on 'ls/b' come in id order, so a cursor between them loses neither.
      const onB = seen.filter((row) => row.key === 'ls/b').map((row) => row.id);
      expect(onB).toEqual([...onB].sort());
      expect(new Set(seen.map((row) => row.id))).toEqual(new Set(ids));
    });

    it('lists every status with updatedAt and expiresAt, which reconciliation reads', async () => {
      const pending = await records.insert(
        { key: 'st/p', status: 'pending', data: { name: 'p' }, expiresAt: t0 + 5 },
        ctx(t0 + 1),
      );
      const active = await records.insert(
        { key: 'st/a', status: 'active', data: { name: 'a' } },
        ctx(t0 + 2),
      );
      const gone = await records.insert(
        { key: 'st/d', status: 'active', data: { name: 'd' } },
        ctx(),
      );
      await records.softDelete(gone.id, ctx(t0 + 3));
      const broken = await records.insert(
        { key: 'st/e', status: 'active', data: { name: 'e' } },
        ctx(),
      );
      await records.markError(broken.id, 'x', ctx(t0 + 4));
      const page = await records.listByKey({ prefix: 'st/', limit: 10 }, ctx());
      expect(page).toEqual([
        { id: active.id, key: 'st/a', status: 'active', updatedAt: t0 + 2 },
        { id: gone.id, key: 'st/d', status: 'deleted', updatedAt: t0 + 3 },
        { id: broken.id, key: 'st/e', status: 'error', updatedAt: t0 + 4 },
        { id: pending.id, key: 'st/p', status: 'pending', updatedAt: t0 + 1, expiresAt: t0 + 5 },
      ]);
    });

    it('validates the page size', async () => {
      await expect(records.listByKey({ limit: 0 }, ctx())).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
      });
    });

    it('answers a prefix or cursor no key can hold with INVALID_OPTIONS, never a driver error', async () => {
      // reconcile({ prefix }) and `ballast reconcile --prefix` pass it on: a NUL escaped as the
      // driver's raw 22021 error.
      for (const options of [
        { limit: 10, prefix: 'a\u0000' },
        { limit: 10, after: { key: 'a\u0000', id: '00000000-0000-4000-8000-000000000000' } },
        { limit: 10, after: { key: 'a', id: 'not-a-uuid' } },
      ]) {
        await expect(records.listByKey(options, ctx())).rejects.toMatchObject({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('listByKey()'),
        });
      }
    });

    it('gives uploadInTransaction its transaction and write: committed on success, nothing on failure', async () => {
      const storage = new MemoryObjectStorage();
      const { row } = await uploadInTransaction({
        storage,
        key: 'tx/ok',
        body: 'hello',
        ...records.transactional(db, { name: 'ok' }),
      });
      expect(await rowOf(row.id)).toMatchObject({ status: 'active', storage_key: 'tx/ok' });
      expect(await storage.head('tx/ok')).toBeDefined();

      const failing = new KyselyDocumentRecords<{ name: string }>({
        db,
        schema,
        documents: { table: 'no_such_table' },
      });
      await expect(
        uploadInTransaction({
          storage,
          key: 'tx/fail',
          body: 'hello',
          ...failing.transactional(db, { name: 'fail' }),
        }),
      ).rejects.toThrow();
      expect(await storage.head('tx/fail')).toBeUndefined();
    });

    if (concurrent) {
      it('answers every one of racing confirmations of one upload with the active row', async () => {
        // A double-clicked "done": the losers wait on the winner's row lock, then must see the
        // row it activated, not the pending row of their statement's snapshot.
        const object = { key: 'race/up', size: 5, etag: '"e"', lastModified: t0 };
        for (let i = 0; i < 10; i++) {
          const row = await records.insert(
            { key: 'race/up', status: 'pending', data: { name: 'u' }, expiresAt: t0 + 60_000 },
            ctx(),
          );
          const answers = await Promise.all(
            Array.from({ length: 5 }, () => records.markUploaded(row.id, object, ctx(t0 + 1))),
          );
          for (const answer of answers)
            expect(answer).toMatchObject({ id: row.id, status: 'active' });
        }
      });

      it('lets exactly one of a soft delete and a reconciliation markError win a race', async () => {
        for (let i = 0; i < 20; i++) {
          const row = await records.insert(
            { key: `race/${i}`, status: 'active', data: { name: 'r' } },
            ctx(),
          );
          await addChunks(row.id, 3);
          const [deleted, marked] = await Promise.all([
            records.softDelete(row.id, ctx(t0 + 1)),
            records.markError(row.id, 'missing', ctx(t0 + 1)),
          ]);
          const status = (await rowOf(row.id))?.status;
          if (deleted !== undefined) {
            // softDelete accepts error rows: it may run after markError.
            expect(status).toBe('deleted');
          } else {
            expect(marked).toBe(true);
            expect(status).toBe('error');
          }
          expect(await chunkStates(row.id)).toEqual({ live: 0, deleted: 3 });
        }
      });
    }
  });
}

describeWith('postgres', 'document records on a Postgres server', () => {
  describeDocumentRecords(
    'Postgres (server)',
    () =>
      countingKysely(
        new PostgresDialect({ pool: new pg.Pool({ connectionString: postgresUrl, max: 10 }) }),
      ),
    true,
  );
});

describeDocumentRecords('PGlite', () => countingKysely(new PGliteDialect(freshPGlite())), false);

/** KyselyDocumentRecords over the `files` and `pages` tables, whose names are all the user's own. */
function recordsOnUserNamedTables(db: Kysely<unknown>, generateId: () => string) {
  return new KyselyDocumentRecords<{ title: string }>({
    db,
    documents: {
      table: 'files',
      id: 'file_id',
      storageKey: 'object_key',
      status: 'state',
      updatedAt: 'changed_at',
      deletedAt: 'removed_at',
      expiresAt: null,
      errorReason: null,
      size: null,
      etag: null,
      contentType: null,
      checksumSha256: null,
      createdAt: null,
    },
    chunks: { table: 'pages', id: 'page_no', documentId: 'owner', deletedAt: 'gone_at' },
    statuses: { active: 'UPLOADED', deleted: 'DELETED', error: 'ERROR', pending: 'PENDING' },
    generateId,
  });
}

describe('KyselyDocumentRecords on user-named tables and statuses (PGlite)', () => {
  // Opened in beforeAll, not while the file is collected: starting PGlite blocks the event loop
  // for seconds, which then stalled whichever Postgres-server test was running.
  let db: Kysely<unknown>;
  let records: KyselyDocumentRecords<{ title: string }>;

  beforeAll(async () => {
    db = new Kysely<unknown>({ dialect: new PGliteDialect(freshPGlite()) });
    records = recordsOnUserNamedTables(db, () => `file-${++next}`);
    await sql`CREATE TABLE files (
      file_id    text PRIMARY KEY,
      object_key text NOT NULL,
      state      text NOT NULL,
      title      text,
      changed_at timestamptz NOT NULL,
      removed_at timestamptz
    )`.execute(db);
    await sql`CREATE TABLE pages (
      page_no  serial PRIMARY KEY,
      owner    text NOT NULL REFERENCES files (file_id),
      gone_at  timestamptz
    )`.execute(db);
  });
  afterAll(async () => {
    await db.destroy();
  });

  let next = 0;

  it('runs the whole lifecycle on the user’s names and values', async () => {
    const row = await records.insert({ key: 'k/1', status: 'active', data: { title: 'T' } }, ctx());
    expect(row).toMatchObject({ id: 'file-1', key: 'k/1', status: 'active' });
    expect(row.columns).toMatchObject({ state: 'UPLOADED', title: 'T' });
    await sql`INSERT INTO pages (owner) VALUES ('file-1'), ('file-1'), ('file-1')`.execute(db);
    await sql`UPDATE pages SET gone_at = now() WHERE page_no = 1`.execute(db);

    const deleted = await records.softDelete('file-1', ctx());
    const afterDelete = await sql<{ live: number }>`
      SELECT count(*)::int AS live FROM pages WHERE gone_at IS NULL`.execute(db);
    expect(afterDelete.rows[0]?.live).toBe(0);
    await records.restore(deleted?.restoreToken, ctx());
    const afterRestore = await sql<{ page_no: number }>`
      SELECT page_no FROM pages WHERE gone_at IS NULL ORDER BY page_no`.execute(db);
    expect(afterRestore.rows.map((r) => r.page_no)).toEqual([2, 3]);

    expect(await records.markError('file-1', 'gone', ctx())).toBe(true);
    const listed = await records.listByKey({ limit: 10 }, ctx());
    expect(listed).toEqual([{ id: 'file-1', key: 'k/1', status: 'error', updatedAt: t0 }]);
    await sql`UPDATE files SET state = 'QUARANTINED'`.execute(db);
    expect((await records.listByKey({ limit: 10 }, ctx()))[0]?.status).toBe('error');
  });

  it('refuses a pending row without an expiresAt column', async () => {
    const error = await records
      .insert({ key: 'k/2', status: 'pending', data: { title: 'P' }, expiresAt: t0 }, ctx())
      .catch((e: unknown) => e);
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
  });

  it('validates names: only plain identifiers', () => {
    expect(
      () => new KyselyDocumentRecords({ db, documents: { table: 'files; DROP TABLE x' } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(
      () => new KyselyDocumentRecords({ db, statuses: { active: 'same', deleted: 'same' } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});

describe('documentsMigrationSql', () => {
  it('is the DDL migrateDocuments applies, usable by a migration tool', async () => {
    const text = documentsMigrationSql({ schema: 'app' });
    expect(text).toContain('CREATE SCHEMA IF NOT EXISTS "app"');
    expect(text).toContain('CREATE TABLE IF NOT EXISTS "app"."documents"');
    expect(text).toContain('(storage_key COLLATE "C", id)');
    const pglite = freshPGlite();
    await pglite.exec(text);
    await pglite.exec(text);
    const tables = await pglite.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'app' ORDER BY 1`,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(['document_chunks', 'documents']);
    await pglite.close();
  });
});
