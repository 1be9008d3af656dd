/**
 * The parts `createPostgresBackupRunner()` is composed of, each through the public entry:
 * `directoryBackupFiles` (atomic files in a directory), `findPgBinaries` (a `pg_dump` able to
 * dump the server) and `pgDumpSource` (the dump and its restore check against the shared
 * Postgres). The end-to-end promise is in postgres-backups.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  directoryBackupFiles,
  findPgBinaries,
  pgDumpSource,
  restorePostgresBackup,
} from '@ballast/adapters/postgres';
import { isBallastError } from '@ballast/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith, postgresUrl } from './support/services.js';

const encoder = new TextEncoder();

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
}

describe('directoryBackupFiles', () => {
  let dir: string;
  const signal = new AbortController().signal;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ballast-backup-files-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes, reads, sizes, locates and deletes plain files, creating the directory', async () => {
    const files = directoryBackupFiles(join(dir, 'nested'));
    await files.write('2026-03-01.dump', streamOf('PGDMP', '-body'), { signal });
    expect(new TextDecoder().decode(await bytesOf((await files.read('2026-03-01.dump'))!))).toBe(
      'PGDMP-body',
    );
    expect(await files.size('2026-03-01.dump')).toBe(10);
    expect(files.locate('2026-03-01.dump')).toBe(join(dir, 'nested', '2026-03-01.dump'));
    await files.delete('2026-03-01.dump');
    await files.delete('2026-03-01.dump');
    expect(await files.read('2026-03-01.dump')).toBeUndefined();
    expect(await files.size('2026-03-01.dump')).toBeUndefined();
  });

  it('leaves neither the file nor a partial one when the body fails mid-write', async () => {
    const files = directoryBackupFiles(dir);
    let sent = false;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) controller.error(new Error('pg_dump exited with code 1'));
        else controller.enqueue(encoder.encode('half a dump'));
        sent = true;
      },
    });
    expect(((await rejection(files.write('cut.dump', failing, { signal }))) as Error).message).toBe(
      'pg_dump exited with code 1',
    );
    expect(await files.size('cut.dump')).toBeUndefined();
    expect((await readdir(dir)).filter((name) => name.includes('cut.dump'))).toEqual([]);
  });

  it("stops with the signal's reason when aborted, leaving nothing behind", async () => {
    const files = directoryBackupFiles(dir);
    const controller = new AbortController();
    const reason = new Error('shutting down');
    controller.abort(reason);
    const error = await rejection(
      files.write('aborted.dump', streamOf('x'), { signal: controller.signal }),
    );
    expect(error).toBe(reason);
    expect((await readdir(dir)).filter((name) => name.includes('aborted'))).toEqual([]);
  });

  it('refuses names that would leave the directory or hide a file', async () => {
    const files = directoryBackupFiles(dir);
    for (const name of ['../escape.dump', 'a/b.dump', '.hidden', '', 'x..y', 'nul\u0000.dump']) {
      expect(() => files.locate(name), name).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'name' } }),
      );
      await expect(files.write(name, streamOf('x'), { signal })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    }
  });

  it('refuses a directory that is not a path with INVALID_OPTIONS naming itself', () => {
    for (const value of [undefined, 42, { path: '/tmp' }]) {
      expect(() => directoryBackupFiles(value as never)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('directoryBackupFiles()'),
        }),
      );
    }
  });
});

describe('pgDumpSource and findPgBinaries: bad input', () => {
  it('pgDumpSource refuses its options when built, naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [undefined, '(options)'],
      [{}, 'databaseUrl'],
      [{ databaseUrl: 'mysql://root@localhost/app' }, 'databaseUrl'],
      [{ databaseUrl: postgresUrl, dumpArgs: '--schema=app' }, 'dumpArgs'],
      [{ databaseUrl: postgresUrl, dumpArgs: ['orders'] }, 'dumpArgs.0'],
      [{ databaseUrl: postgresUrl, sanityQuery: '' }, 'sanityQuery'],
      [{ databaseUrl: postgresUrl, databaseURL: postgresUrl }, '(options)'],
    ];
    for (const [options, field] of cases) {
      let error: unknown;
      try {
        pgDumpSource(options as never);
      } catch (caught) {
        error = caught;
      }
      expect(isBallastError(error, 'INVALID_OPTIONS'), field).toBe(true);
      expect((error as Error).message).toContain('pgDumpSource()');
      expect((error as { details: { field?: string } }).details.field, field).toBe(field);
    }
  });

  it('findPgBinaries refuses a major version that is not a positive integer', async () => {
    for (const major of [Number.NaN, 0, 15.5, '15']) {
      const error = await rejection(findPgBinaries(major as never));
      expect(error, String(major)).toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field: 'serverMajor' },
      });
    }
  });

  it('findPgBinaries says what it tried when binDir holds no tools', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'ballast-no-pg-'));
    try {
      const error = await rejection(findPgBinaries(15, empty));
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      expect((error as Error).message).toContain(`${empty} (absent)`);
      expect((error as { details: unknown }).details).toEqual({
        field: 'pgBinDir',
        serverMajor: 15,
      });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describeWith('postgres', 'pgDumpSource and findPgBinaries on the shared Postgres', () => {
  const name = `ballast_parts_${randomBytes(4).toString('hex')}`;
  const url = (() => {
    const parsed = new URL(postgresUrl);
    parsed.pathname = `/${name}`;
    return parsed.toString();
  })();
  let serverMajor: number;

  async function admin(statement: string, target = postgresUrl): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      return await client.query(statement);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    const { rows } = await admin("SELECT current_setting('server_version_num') AS v");
    serverMajor = Math.floor(Number(rows[0].v) / 10_000);
    await admin(`CREATE DATABASE ${name}`);
    await admin('CREATE TABLE sales (id int PRIMARY KEY, total numeric(12,2) NOT NULL)', url);
    await admin('INSERT INTO sales SELECT g, g * 1.5 FROM generate_series(1, 200) g', url);
  });

  afterAll(async () => {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it('restorePostgresBackup into a database that does not exist: INVALID_OPTIONS naming it, not the driver error', async () => {
    const missing = new URL(postgresUrl);
    missing.pathname = `/${name}_missing`;
    const failure = await restorePostgresBackup({
      databaseUrl: missing.toString(),
      body: new ReadableStream(),
    }).catch((error: unknown) => error);
    expect(isBallastError(failure, 'INVALID_OPTIONS')).toBe(true);
    expect((failure as Error).message).toContain(`${name}_missing`);
  });

  it("findPgBinaries finds tools at least as new as the server's major version", async () => {
    const tools = await findPgBinaries(serverMajor);
    expect(tools.major).toBeGreaterThanOrEqual(serverMajor);
    expect(tools.pgDump).toMatch(/pg_dump$/);
    expect(tools.pgRestore).toMatch(/pg_restore$/);
    // A server newer than any installed tool is refused with what was tried.
    await expect(findPgBinaries(serverMajor + 50)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'pgBinDir', serverMajor: serverMajor + 50 },
    });
  });

  it('dumps in pg_dump custom format and proves the dump restores', async () => {
    const source = pgDumpSource({ databaseUrl: url });
    expect(source.extension).toBe('.dump');
    const dump = await bytesOf(await source.dump(new AbortController().signal));
    // Custom-format archives start with the magic string PGDMP.
    expect(new TextDecoder().decode(dump.subarray(0, 5))).toBe('PGDMP');
    const checked = await source.checkRestore!(new Blob([dump]).stream(), {
      signal: new AbortController().signal,
    });
    expect(checked).toEqual({ ok: true, detail: 'sanity query returned true' });
  });

  it('reports a restore that fails, or a sanity query that is not true, as not ok', async () => {
    const signal = new AbortController().signal;
    const garbage = await pgDumpSource({ databaseUrl: url }).checkRestore!(streamOf('not a dump'), {
      signal,
    });
    expect(garbage.ok).toBe(false);
    expect(garbage.detail).toMatch(/^pg_restore failed: /);
    const strict = pgDumpSource({
      databaseUrl: url,
      sanityQuery: 'SELECT count(*) > 1000 FROM sales',
    });
    const dump = await bytesOf(await strict.dump(signal));
    expect(await strict.checkRestore!(new Blob([dump]).stream(), { signal })).toEqual({
      ok: false,
      detail: 'sanity query returned false',
    });
  });

  it('restorePostgresBackup fails with BACKUP_FAILED on a body that is not a dump or is empty', async () => {
    const target = `${url}_into`;
    await admin(`CREATE DATABASE ${name}_into`);
    try {
      for (const body of [streamOf('not a dump'), streamOf()]) {
        const error = await rejection(restorePostgresBackup({ databaseUrl: target, body }));
        expect(isBallastError(error, 'BACKUP_FAILED')).toBe(true);
        expect((error as Error).message).toMatch(/pg_restore exited with code 1/);
      }
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${name}_into WITH (FORCE)`);
    }
  });

  it('restorePostgresBackup fails when its body errors, even after a whole dump went through', async () => {
    const dump = await bytesOf(
      await pgDumpSource({ databaseUrl: url }).dump(new AbortController().signal),
    );
    const cause = new Error('download cut: checksum mismatch');
    // The whole dump, then an error instead of the end: a download whose last check failed.
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (pulls++ === 0) controller.enqueue(dump);
        else {
          await new Promise((resolve) => setTimeout(resolve, 20));
          controller.error(cause);
        }
      },
    });
    await admin(`CREATE DATABASE ${name}_cut`);
    try {
      const error = await rejection(restorePostgresBackup({ databaseUrl: `${url}_cut`, body }));
      expect(isBallastError(error, 'BACKUP_FAILED')).toBe(true);
      expect((error as Error).cause).toBe(cause);
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${name}_cut WITH (FORCE)`);
    }
  });

  it('passes dumpArgs to pg_dump, and its stream errors when pg_dump fails', async () => {
    const signal = new AbortController().signal;
    const schemaOnly = pgDumpSource({ databaseUrl: url, dumpArgs: ['--schema-only'] });
    const full = await bytesOf(await pgDumpSource({ databaseUrl: url }).dump(signal));
    const small = await bytesOf(await schemaOnly.dump(signal));
    expect(small.byteLength).toBeLessThan(full.byteLength);
    const broken = pgDumpSource({ databaseUrl: url, dumpArgs: ['--table=no_such_table'] });
    const error = await rejection(bytesOf(await broken.dump(signal)));
    expect((error as Error).message).toMatch(/pg_dump exited with code 1/);
  });
});
