/**
 * `restorePostgresBackup` fed what a broken disk, a wrong file or a cut download gives it: each
 * ends in a typed `BallastError` (never a bare `Error`, never success), without hanging and
 * without leaving a `pg_restore` behind. A body that fails after its last byte matters most:
 * `pg_restore` may have read a whole archive, but what fed it said the bytes were not good.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isBallastError } from '@ballast/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pgDumpSource, restorePostgresBackup } from '../src/postgres/index.js';
import { databaseUrl, describeWith, runStatement } from './support/services.js';

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `bytes` (read by the consumer), then the stream fails with `reason` instead of ending. */
function failingAfter(bytes: Uint8Array, reason: Error): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream(
    {
      pull(controller) {
        if (sent) controller.error(reason);
        else controller.enqueue(bytes);
        sent = true;
      },
    },
    { highWaterMark: 0 },
  );
}

/** `pg_restore` processes that are children of this test process. */
function ownRestoreProcesses(): string[] {
  const listing = execFileSync('ps', ['-o', 'pid=,ppid=,stat=,comm=', '-e'], { encoding: 'utf8' });
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(
      ([, ppid, stat, comm]) =>
        ppid === String(process.pid) && comm === 'pg_restore' && !stat?.startsWith('Z'),
    )
    .map(([pid]) => pid!);
}

describeWith('postgres', 'restorePostgresBackup with hostile bodies', () => {
  const source = `ballast_rh_${randomBytes(4).toString('hex')}`;
  const target = `ballast_rh_${randomBytes(4).toString('hex')}`;
  let dump: Uint8Array<ArrayBuffer>;

  beforeAll(async () => {
    await runStatement(`CREATE DATABASE ${source}`);
    await runStatement(
      'CREATE TABLE sales (id int PRIMARY KEY, total numeric(12,2))',
      databaseUrl(source),
    );
    await runStatement(
      'INSERT INTO sales SELECT g, g * 1.5 FROM generate_series(1, 500) g',
      databaseUrl(source),
    );
    dump = await bytesOf(
      await pgDumpSource({ databaseUrl: databaseUrl(source) }).dump(new AbortController().signal),
    );
  }, 60_000);

  afterAll(async () => {
    await runStatement(`DROP DATABASE IF EXISTS ${source} WITH (FORCE)`);
  });

  async function restoreInto(body: ReadableStream<Uint8Array>): Promise<unknown> {
    await runStatement(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
    await runStatement(`CREATE DATABASE ${target}`);
    try {
      return await restorePostgresBackup({ databaseUrl: databaseUrl(target), body }).then(
        () => 'restored',
        (error: unknown) => error,
      );
    } finally {
      await runStatement(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
    }
  }

  it('refuses a body that is not a pg_dump archive with BACKUP_FAILED, saying pg_restore failed', async () => {
    const error = await restoreInto(new Blob(['not a dump\n'.repeat(50)]).stream());
    expect(isBallastError(error, 'BACKUP_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/^pg_restore exited with code 1/);
    expect(ownRestoreProcesses()).toEqual([]);
  }, 30_000);

  it('refuses an empty body with BACKUP_FAILED', async () => {
    const error = await restoreInto(new Blob([]).stream());
    expect(isBallastError(error, 'BACKUP_FAILED')).toBe(true);
    expect(ownRestoreProcesses()).toEqual([]);
  }, 30_000);

  it('fails with BACKUP_FAILED naming the body when the body errors midway', async () => {
    const error = await restoreInto(
      failingAfter(dump.subarray(0, 600), new Error('disk read failed')),
    );
    expect(isBallastError(error, 'BACKUP_FAILED')).toBe(true);
    expect((error as Error).message).toContain('disk read failed');
    expect(ownRestoreProcesses()).toEqual([]);
  }, 30_000);

  it('fails when the body errors after its last byte, even though pg_restore read a whole archive', async () => {
    // A checksum check at the end of the stream, a download whose connection dropped after the
    // last chunk: the bytes may parse, but the restore cannot be called good.
    const error = await restoreInto(failingAfter(dump, new Error('checksum mismatch')));
    expect(isBallastError(error, 'BACKUP_FAILED')).toBe(true);
    expect((error as Error).message).toContain('checksum mismatch');
    expect(ownRestoreProcesses()).toEqual([]);
  }, 30_000);

  it('restores a good body (the control)', async () => {
    expect(await restoreInto(new Blob([dump]).stream())).toBe('restored');
  }, 30_000);
});
