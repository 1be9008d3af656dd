import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { createPostgresBackupRunner } from './create-postgres-backup-runner.js';
import { restorePostgresBackup } from './pg-dump-source.js';

// Port 1: nothing listens, so every connection is refused at once.
const unreachable = 'postgres://postgres:hunter2@127.0.0.1:1/test';

describe('restorePostgresBackup', () => {
  it('cancels the body when it fails before reading it (the server cannot be reached)', async () => {
    let cancelled: unknown = 'not cancelled';
    const body = new ReadableStream<Uint8Array>({
      cancel(reason) {
        cancelled = reason;
      },
    });
    const failure = await restorePostgresBackup({
      databaseUrl: unreachable,
      body,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    // A file handle or a download behind the body is released, not left open.
    expect(cancelled).toBe(failure);
  });

  it('fails with SERVICE_UNAVAILABLE, not the driver’s bare error, when the server cannot be reached', async () => {
    const failure = await restorePostgresBackup({
      databaseUrl: unreachable,
      body: new ReadableStream(),
    }).catch((error: unknown) => error);
    expect(isBallastError(failure, 'SERVICE_UNAVAILABLE')).toBe(true);
    expect((failure as Error).message).not.toContain('hunter2');
  });
});

describe('createPostgresBackupRunner', () => {
  it('fails with SERVICE_UNAVAILABLE, not the driver’s bare error, when the server cannot be reached', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ballast-unreachable-'));
    try {
      const failure = await createPostgresBackupRunner({ databaseUrl: unreachable, dir }).catch(
        (error: unknown) => error,
      );
      expect(isBallastError(failure, 'SERVICE_UNAVAILABLE')).toBe(true);
      expect((failure as Error).message).not.toContain('hunter2');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
