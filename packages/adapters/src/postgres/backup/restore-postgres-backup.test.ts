import { describe, expect, it } from 'vitest';
import { restorePostgresBackup } from './pg-dump-source.js';

describe('restorePostgresBackup', () => {
  it('cancels the body when it fails before reading it (the server cannot be reached)', async () => {
    let cancelled: unknown = 'not cancelled';
    const body = new ReadableStream<Uint8Array>({
      cancel(reason) {
        cancelled = reason;
      },
    });
    // Port 1: nothing listens, so the connection is refused before pg_restore is started.
    const failure = await restorePostgresBackup({
      databaseUrl: 'postgres://postgres@127.0.0.1:1/test',
      body,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    // A file handle or a download behind the body is released, not left open.
    expect(cancelled).toBe(failure);
  });
});
