import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createFakeUploadServer,
  type FakeUploadServer,
} from '../../test/support/fake-upload-server.js';
import { createClient } from '../fetch/create-client.js';
import { uploadFile } from './upload-file.js';
import type { UploadFileOptions } from './upload-options.js';

const bytes = new TextEncoder().encode('%PDF-1.7 a scanned invoice, '.repeat(200));
const file = () => new File([bytes], 'invoice.pdf', { type: 'application/pdf' });

function upload(server: FakeUploadServer, options: Partial<UploadFileOptions> = {}) {
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: server.fetch,
    retry: { writes: 0 },
  });
  return uploadFile(file(), {
    client,
    requestUrl: '/uploads',
    confirmUrl: '/uploads/confirm',
    fetch: server.fetch,
    transport: 'fetch',
    retryDelaysMs: [5],
    ...options,
  });
}

async function sha256Base64(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return btoa(String.fromCharCode(...digest));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('uploadFile', () => {
  it('requests a presigned PUT, sends the file with the signed headers, confirms once', async () => {
    const server = createFakeUploadServer();
    const progress: { loaded: number; total: number }[] = [];
    const stages: string[] = [];
    const result = await upload(server, {
      on: {
        progress: ({ loaded, total }) => progress.push({ loaded, total }),
        stage: ({ stage }) => stages.push(stage),
      },
    });
    expect(result.attempts).toBe(1);
    expect(result.checksumSha256).toBe(await sha256Base64(bytes));
    expect(result.data).toMatchObject({ status: 'active', data: { name: 'invoice.pdf' } });
    expect(server.calls).toEqual({ request: 1, put: 1, confirm: 1 });
    const [key] = server.storage.keys();
    expect(key).toMatch(/^files\/[0-9a-f-]{36}$/);
    const stored = await server.storage.get(key ?? '');
    expect(new Uint8Array(await new Response(stored?.body).arrayBuffer())).toEqual(bytes);
    expect(Object.fromEntries(server.putHeaders[0] ?? [])).toEqual({
      'content-type': 'application/pdf',
      'x-amz-checksum-sha256': result.checksumSha256,
    });
    expect(progress).toEqual([
      { loaded: 0, total: bytes.length },
      { loaded: bytes.length, total: bytes.length },
    ]);
    expect(stages).toEqual(['hashing', 'requesting', 'uploading', 'confirming']);
  });

  it('retries a PUT that failed for the network or a 503, then confirms once', async () => {
    const server = createFakeUploadServer();
    server.failPuts(2, 'network');
    const retries: number[] = [];
    const result = await upload(server, {
      on: { retry: ({ attempt }) => retries.push(attempt) },
    });
    expect(result.attempts).toBe(3);
    expect(retries).toEqual([1, 2]);
    expect(server.calls).toEqual({ request: 1, put: 3, confirm: 1 });

    const second = createFakeUploadServer();
    second.failPuts(1, 503);
    expect((await upload(second)).attempts).toBe(2);
    expect(second.calls.confirm).toBe(1);
  });

  it('gives up after `retries`, with the network error and no confirmation', async () => {
    const server = createFakeUploadServer();
    server.failPuts(10, 'network');
    await expect(upload(server, { retries: 2 })).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(server.calls).toEqual({ request: 1, put: 3, confirm: 0 });
  });

  it('a file other than the declared one is refused by storage: UPLOAD_FAILED, not retried', async () => {
    const server = createFakeUploadServer();
    const other = await sha256Base64(new TextEncoder().encode('something else'));
    await expect(upload(server, { checksumSha256: other })).rejects.toMatchObject({
      code: 'UPLOAD_FAILED',
      retryable: false,
      details: { storageStatus: 400 },
    });
    expect(server.calls).toEqual({ request: 1, put: 1, confirm: 0 });
    expect(server.storage.keys()).toEqual([]);
  });

  it('asks once for a fresh URL when storage refuses an expired one', async () => {
    const server = createFakeUploadServer();
    server.expiresInSeconds = 1;
    server.failPuts(1, 'network');
    const result = await upload(server, { retryDelaysMs: [1_100] });
    // A network failure, a 403 for the expired URL, then the fresh URL.
    expect(result.attempts).toBe(3);
    expect(server.calls).toEqual({ request: 2, put: 3, confirm: 1 });
    expect(server.storage.keys()).toHaveLength(1);
  });

  it('asks for a fresh URL only once: a second 403 is UPLOAD_FAILED', async () => {
    const server = createFakeUploadServer();
    server.failPuts(2, 403);
    await expect(upload(server)).rejects.toMatchObject({
      code: 'UPLOAD_FAILED',
      retryable: false,
      details: { storageStatus: 403 },
    });
    expect(server.calls).toEqual({ request: 2, put: 2, confirm: 0 });
  });

  it('sends the request with the given key and confirms under `<key>:confirm`; a repeat is a replay', async () => {
    const server = createFakeUploadServer();
    const first = await upload(server, { idempotencyKey: 'upload-1' });
    const again = await upload(server, { idempotencyKey: 'upload-1' });
    expect(again.data).toEqual(first.data);
    expect(server.calls.request).toBe(2);
    // One confirmed object; the replayed URL only staged a copy that reconciliation removes.
    expect(server.storage.keys().filter((key) => !key.includes('.upload-'))).toHaveLength(1);
    expect(
      await server.records.listByKey({ limit: 10 }, { traceId: 't', now: Date.now() }),
    ).toHaveLength(1);
  });

  it('surfaces the server’s rejection of the request as a BallastError', async () => {
    const server = createFakeUploadServer();
    await expect(upload(server, { requestUrl: '/nowhere' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
    });
    expect(server.calls.put).toBe(0);
  });

  it('stops with ABORTED when the signal fires between attempts', async () => {
    const server = createFakeUploadServer();
    server.failPuts(5, 'network');
    const controller = new AbortController();
    const promise = upload(server, {
      signal: controller.signal,
      retryDelaysMs: [60_000],
      on: { retry: () => controller.abort() },
    });
    await expect(promise).rejects.toMatchObject({ code: 'ABORTED' });
    expect(server.calls.confirm).toBe(0);
  });

  it('refuses wrong options and a body that is not a Blob', async () => {
    const server = createFakeUploadServer();
    await expect(
      uploadFile(file(), { confirmUrl: '/c' } as unknown as UploadFileOptions),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'requestUrl' } });
    await expect(
      uploadFile('text' as unknown as Blob, { requestUrl: '/u', confirmUrl: '/c' }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'file' } });
    await expect(upload(server, { retries: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    // Sent as JSON, where a function would vanish without a word: refused, naming the field.
    await expect(
      upload(server, { fields: { caseId: 'c1', label: () => 'invoice' } }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'fields' } });
    await expect(upload(server, { fields: { n: 1n } as never })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'fields' },
    });
    expect(server.calls.request).toBe(0);
  });

  it('an answer that is not an upload ticket is UPSTREAM_ERROR', async () => {
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch: async () => Response.json({ url: 'x' }),
    });
    await expect(
      uploadFile(file(), { client, requestUrl: '/u', confirmUrl: '/c', transport: 'fetch' }),
    ).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', retryable: false });
  });
});
